import "./style.css";
import "uplot/dist/uPlot.min.css";
import uPlot from "uplot";
import { ApiError, dashboard, deleteUser, deletion, forgetKey, journey, savedKey, saveKey } from "./api";
import type { DashboardQuery } from "./operations";

/*
 * The dashboard: a key prompt, a range, and every report of the API for that range, drawn from one query. Numbers are
 * shown formatted, and each keeps the API's value in data-value (what the browser test compares with the API).
 */

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const app = $<HTMLElement>("app");
let chart: uPlot | null = null;

type Data = DashboardQuery;
type Kpis = Omit<Data["overview"], "previous" | "start" | "end" | "currency" | "dataAsOf">;

/** The range the form says: the last N days, or a custom start and end. */
function rangeOfForm(): { days?: number; start?: string; end?: string } {
  const value = $<HTMLSelectElement>("range").value;
  if (value !== "custom") return { days: Number(value) };
  return { start: $<HTMLInputElement>("start").value, end: $<HTMLInputElement>("end").value };
}

function showError(err: unknown): void {
  const box = $<HTMLElement>("error");
  box.textContent = err instanceof ApiError ? `${err.message} (${err.code})` : String(err);
  box.hidden = false;
}

async function load(): Promise<void> {
  $<HTMLElement>("error").hidden = true;
  try {
    render(await dashboard(rangeOfForm()));
  } catch (err) {
    app.replaceChildren();
    showError(err);
  }
}

/** An element with text, and optionally the raw value it shows. */
function el(tag: string, text = "", attrs: Record<string, string> = {}): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function panel(name: string, title: string, ...children: Node[]): HTMLElement {
  const section = el("section", "", { "data-panel": name, class: `panel ${name}` });
  section.append(el("h2", title), ...children);
  return section;
}

/** A table whose cells hold their raw value in data-value when it is a number. */
function table(headers: string[], rows: (string | number)[][], format: (column: number, value: number) => string, empty = "Nothing in this range yet."): HTMLElement {
  if (rows.length === 0) return el("p", empty, { class: "empty" });
  const t = el("table");
  const head = el("tr");
  headers.forEach(h => head.append(el("th", h)));
  t.append(head);
  for (const row of rows) {
    const tr = el("tr");
    row.forEach((cell, i) => tr.append(typeof cell === "number" ? el("td", format(i, cell), { "data-value": String(cell), class: "num" }) : el("td", cell)));
    t.append(tr);
  }
  return t;
}

function render(data: Data): void {
  const money = new Intl.NumberFormat("en-US", { style: "currency", currency: data.overview.currency });
  const count = new Intl.NumberFormat("en-US");
  const fmtMoney = (n: number) => money.format(n);
  const byColumn = (moneyColumns: number[]) => (column: number, value: number) => (moneyColumns.includes(column) ? fmtMoney(value) : count.format(value));
  const o = data.overview;
  const empty = o.totalOrders === 0 && data.ingestionStats.accepted === 0;
  app.replaceChildren(
    el("p", `${o.start} to ${o.end} · data as of ${new Date(o.dataAsOf).toISOString().replace("T", " ").slice(0, 19)} UTC`, { class: "period", "data-panel": "period" }),
    ...(empty ? [emptyState()] : []),
    kpis(o, o.previous ?? null, fmtMoney),
    panel("timeseries", "Revenue by day (previous period dashed)", el("div", "", { id: "chart" })),
    panel("funnel", "Funnel", funnelBars(data.funnel.steps)),
    panel("top-products", "Top products", table(["Item", "Revenue", "Quantity", "Orders"], data.topProducts.products.map(p => [p.itemName ?? p.itemId, p.revenue, p.quantity, p.orders]), byColumn([1]))),
    panel("channels", "Revenue by channel", table(["Source", "Medium", "Revenue", "Orders"], data.channels.rows.map(r => [r.source ?? "(none)", r.medium ?? "(none)", r.revenue, r.orders]), byColumn([2]))),
    panel("devices", "Revenue by device", table(["Device", "Revenue", "Orders"], data.devices.rows.map(r => [r.deviceType ?? "(unknown)", r.revenue, r.orders]), byColumn([1]))),
    panel("platforms", "Revenue by platform", table(["Platform", "Revenue", "Orders"], data.platforms.rows.map(r => [r.platform ?? "(unknown)", r.revenue, r.orders]), byColumn([1]))),
    panel("countries", "Revenue by country", table(["Country", "Revenue", "Orders"], data.countries.rows.map(r => [r.country ?? "(unknown)", r.revenue, r.orders]), byColumn([1]))),
    panel("coupons", "Revenue by coupon", table(["Coupon", "Revenue", "Orders"], data.coupons.rows.map(r => [r.couponCode ?? "(none)", r.revenue, r.orders]), byColumn([1]))),
    panel("carts", "Cart abandonment", figures([["Abandonment rate %", data.cartAbandonment.abandonmentRate], ["Abandoned carts", data.cartAbandonment.abandonedCarts],
      ["Abandoned revenue", data.cartAbandonment.abandonedRevenue, fmtMoney], ["Completed carts", data.cartAbandonment.completedCarts], ["Open carts", data.cartAbandonment.openCarts]])),
    panel("attribution", "Attribution: last click, linear, time decay", attribution(data, byColumn([1, 2, 3]))),
    panel("cohorts", "Monthly cohorts: revenue by month since first purchase", cohortHeatmap(data.cohorts, fmtMoney)),
    panel("ingestion", "Events received through the API", figures([["Accepted", data.ingestionStats.accepted], ["Stored", data.ingestionStats.stored],
      ["Duplicates", data.ingestionStats.duplicates], ["Flagged", data.ingestionStats.flagged], ["Blocked", data.ingestionStats.blocked], ["Rejected", data.ingestionStats.rejected]]),
      table(["Rejected by code", "Events"], data.ingestionStats.errors.map(e => [e.code, e.count]), byColumn([]), "No event rejected.")),
    people(),
  );
  drawChart(data);
}

/** A two-column table of named figures (money formatted by its own function, counts as counts). */
function figures(rows: [string, number, ((n: number) => string)?][]): HTMLElement {
  const t = el("table", "", { class: "figures" });
  for (const [name, value, format] of rows) {
    const tr = el("tr");
    tr.append(el("th", name), el("td", format ? format(value) : new Intl.NumberFormat("en-US").format(value), { "data-value": String(value), class: "num" }));
    t.append(tr);
  }
  return t;
}

function emptyState(): HTMLElement {
  const box = el("div", "", { class: "panel empty-state", "data-panel": "empty" });
  box.append(
    el("h2", "No events in this range yet"),
    el("p", "Send one with the appspace's publishable key, then reload:"),
    el("pre", `curl -s ${location.origin}/graphql -H "Authorization: Bearer pk_…" -H 'content-type: application/json' \\\n  -d '{"query":"mutation { trackEvent(event: {eventType: PURCHASE, transactionId: \\"o-1\\", revenue: 9.5, userId: \\"u-1\\"}) { ok } }"}'`),
  );
  return box;
}

const KPIS: [keyof Kpis, string, "money" | "count" | "percent"][] = [
  ["totalRevenue", "Revenue", "money"], ["netRevenue", "Net revenue", "money"], ["totalOrders", "Orders", "count"],
  ["avgOrderValue", "Average order", "money"], ["totalItemsSold", "Items sold", "count"], ["cartAbandonmentRate", "Cart abandonment", "percent"],
  ["addToCartRate", "Add-to-cart rate", "percent"], ["totalRefunds", "Refunds", "count"],
];

/** KPI tiles with their change against the previous period. */
function kpis(now: Kpis, previous: Kpis | null, fmtMoney: (n: number) => string): HTMLElement {
  const tiles = el("div", "", { class: "tiles" });
  for (const [field, label, kind] of KPIS) {
    const value = now[field];
    const shown = kind === "money" ? fmtMoney(value) : kind === "percent" ? `${value} %` : new Intl.NumberFormat("en-US").format(value);
    const tile = el("div", "", { class: "tile", "data-kpi": field });
    tile.append(el("span", label, { class: "label" }), el("strong", shown, { "data-value": String(value) }));
    if (previous) {
      const before = previous[field];
      const change = before === 0 ? null : Math.round(((value - before) / before) * 1000) / 10;
      tile.append(el("span", change === null ? "new" : `${change >= 0 ? "+" : ""}${change} %`, { class: `change ${change !== null && change < 0 ? "down" : "up"}`, "data-previous": String(before) }));
    }
    tiles.append(tile);
  }
  return panel("kpis", "Overview", tiles);
}

function funnelBars(steps: Data["funnel"]["steps"]): HTMLElement {
  const list = el("ol", "", { class: "bars" });
  const top = Math.max(1, ...steps.map(s => s.count));
  for (const step of steps) {
    const item = el("li");
    const bar = el("span", "", { class: "bar" });
    bar.style.width = `${(100 * step.count) / top}%`;
    item.append(el("span", step.name, { class: "name" }), bar, el("span", `${step.count} (${step.percentage} % of the step before)`, { "data-value": String(step.count) }));
    list.append(item);
  }
  return list;
}

function attribution(data: Data, format: (column: number, value: number) => string): HTMLElement {
  const key = (c: { campaign: string | null; source: string | null; medium: string | null }) => [c.campaign, c.source, c.medium].map(v => v ?? "(none)").join(" / ");
  const models = [data.lastClick, data.linear, data.timeDecay];
  const channels = [...new Set(models.flatMap(m => m.attributed.map(key)))];
  const revenueOf = (m: (typeof models)[number], channel: string) => m.attributed.find(a => key(a) === channel)?.revenue ?? 0;
  const rows: (string | number)[][] = channels.map(c => [c, ...models.map(m => revenueOf(m, c))]);
  rows.push(["(unattributed)", ...models.map(m => m.unattributed.revenue)]);
  return table(["Campaign / source / medium", "Last click", "Linear", "Time decay"], rows, format);
}

function cohortHeatmap(cohorts: Data["cohorts"], fmtMoney: (n: number) => string): HTMLElement {
  if (cohorts.cohorts.length === 0) return el("p", "No purchases yet.", { class: "empty" });
  const months = Math.max(...cohorts.cohorts.map(c => c.revenueByMonth.length));
  const top = Math.max(1, ...cohorts.cohorts.flatMap(c => c.revenueByMonth.map(m => m.revenue)));
  const t = el("table", "", { class: "heatmap" });
  const head = el("tr");
  head.append(el("th", "Cohort"), el("th", "People"), ...Array.from({ length: months }, (_, i) => el("th", `+${i}`)));
  t.append(head);
  for (const c of cohorts.cohorts) {
    const tr = el("tr");
    tr.append(el("td", c.month), el("td", String(c.users), { "data-value": String(c.users), class: "num" }));
    for (const m of c.revenueByMonth) {
      const td = el("td", fmtMoney(m.revenue), { "data-value": String(m.revenue), class: "num" });
      td.style.background = `rgba(37, 99, 235, ${(0.08 + (0.8 * m.revenue) / top).toFixed(2)})`;
      tr.append(td);
    }
    t.append(tr);
  }
  const wrap = el("div");
  wrap.append(t, el("p", `Average lifetime value ${fmtMoney(cohorts.avgLtv)} over ${cohorts.totalPurchasingUsers} buyers`, { class: "note" }));
  return wrap;
}

/** A person's journey (personal data) and a deletion request: each behind a confirmation. */
function people(): HTMLElement {
  const form = el("form", "", { class: "people" }) as HTMLFormElement;
  const input = el("input", "", { placeholder: "userId", "aria-label": "userId", required: "" }) as HTMLInputElement;
  const show = el("button", "Show journey", { type: "submit" });
  const remove = el("button", "Delete this person's data", { type: "button", class: "danger" });
  const out = el("div", "", { class: "people-out" });
  form.append(input, show, remove);
  form.addEventListener("submit", async e => {
    e.preventDefault();
    if (!confirm(`Show every event of ${input.value}? This is personal data: look only with a reason.`)) return;
    try {
      const { userJourney } = await journey(input.value);
      out.replaceChildren(table(["When (UTC)", "Event", "Order", "Revenue"], userJourney.events.map(ev => [ev.timestamp.replace("T", " ").slice(0, 19), ev.eventType, ev.transactionId ?? "", ev.revenue ?? 0]), (_, v) => String(v)));
    } catch (err) {
      showError(err);
    }
  });
  remove.addEventListener("click", async () => {
    if (!input.value || !confirm(`Delete every event and identifier of ${input.value}? This cannot be undone.`)) return;
    try {
      const { deleteUser: request } = await deleteUser(input.value);
      out.replaceChildren(el("p", `Deletion ${request.id}: ${request.status}`, { "data-deletion": request.id }));
      const { userDeletion } = await deletion(request.id);
      if (userDeletion) out.append(el("p", `Now ${userDeletion.status}: ${userDeletion.eventsDeleted} events deleted`));
    } catch (err) {
      showError(err);
    }
  });
  return panel("people", "A person: journey and deletion", form, out);
}

function drawChart(data: Data): void {
  chart?.destroy();
  const host = $<HTMLElement>("chart");
  const series = data.revenueTimeseries.series;
  const previous = data.revenueTimeseries.previous?.series ?? [];
  const x = series.map(p => Date.parse(`${p.date}T00:00:00Z`) / 1000);
  const values: uPlot.AlignedData = [x, series.map(p => p.revenue), series.map((_, i) => previous[i]?.revenue ?? null)];
  host.dataset.value = JSON.stringify(series.map(p => p.revenue));
  chart = new uPlot(
    {
      width: Math.max(280, host.clientWidth), height: 240, tzDate: ts => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      series: [{}, { label: "This period", stroke: "#2563eb", width: 2 }, { label: "Previous period", stroke: "#94a3b8", dash: [6, 4] }],
      axes: [{}, { size: 70 }],
    },
    values,
    host,
  );
}

function showKeyState(): void {
  const has = !!savedKey();
  $<HTMLFormElement>("range-form").hidden = !has;
  $<HTMLButtonElement>("forget").hidden = !has;
}

$<HTMLFormElement>("key-form").addEventListener("submit", e => {
  e.preventDefault();
  saveKey($<HTMLInputElement>("key").value.trim());
  $<HTMLInputElement>("key").value = "";
  showKeyState();
  void load();
});
$<HTMLButtonElement>("forget").addEventListener("click", () => {
  forgetKey();
  showKeyState();
  app.replaceChildren(el("p", "Key forgotten.", { class: "hint" }));
});
$<HTMLSelectElement>("range").addEventListener("change", () => {
  const custom = $<HTMLSelectElement>("range").value === "custom";
  $<HTMLElement>("custom").hidden = !custom;
  if (!custom) void load();
});
$<HTMLFormElement>("range-form").addEventListener("submit", e => {
  e.preventDefault();
  void load();
});
window.addEventListener("resize", () => chart?.setSize({ width: Math.max(280, $<HTMLElement>("chart").clientWidth), height: 240 }));

showKeyState();
if (savedKey()) void load();
