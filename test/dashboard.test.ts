/// <reference lib="dom" />
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Browser, chromium, Page } from "playwright-core";
import { createKey, CreatedAppspace } from "../src/appspaces/appspace.service";
import { generate } from "../src/bench/generate";
import { ensureDashboard } from "../src/ops/dashboard";
import { dbTargets } from "./helpers/databases";
import { Harness, startHarness } from "./helpers/harness";
import { gqlAt, root, startServerProcess } from "./helpers/process";
import { loadConfig } from "../src/config";

/*
 * The dashboard (/dashboard) in headless Chromium against a real server seeded with the generator: the key prompt,
 * every panel with the numbers the API returns for the same range, a change of range, a journey, a deletion behind its
 * confirmation, and a wrong key shown as the API words it. Screenshots at 390 and 1440 px go to .ci/out/.
 */

const OUT = path.join(root, ".ci", "out");
const DOCUMENT = fs.readFileSync(path.join(root, "dashboard", "src", "operations.graphql"), "utf8");
const CHROMIUM = "/usr/bin/chromium";

const [sqlite] = dbTargets();

describe("the dashboard in Chromium", () => {
  let h: Harness;
  let shop: CreatedAppspace;
  let browser: Browser;
  let page: Page;

  /** The dashboard's own query, asked of the API directly. */
  const api = async (operationName: string, variables: Record<string, unknown>, key = shop.secretKey) => {
    const res = await fetch(h.url, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: DOCUMENT, operationName, variables }),
    });
    return (await res.json()) as { data: any; errors?: { message: string; extensions: { code: string } }[] };
  };

  /** The raw values (data-value) shown in a panel, in page order, as numbers. */
  const valuesIn = (panel: string) =>
    page.$$eval(`[data-panel="${panel}"] [data-value]`, cells => cells.map(c => Number(c.getAttribute("data-value"))));

  beforeAll(async () => {
    await ensureDashboard();
    h = await startHarness(sqlite);
    shop = await h.appspace({ currency: "USD" });
    await generate(h.db, shop.appspaceId, { events: 4000, seed: 26, days: 60 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    fs.mkdirSync(OUT, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /**
   * Does `act`, then waits until the page shows the overview of the answer it brought. Every answer replaces the
   * page's nodes, so the period line shown before is marked and a line without the mark is waited for: its text
   * alone may not change (another key, the same range, within the same second).
   */
  async function answerTo(act: () => Promise<unknown>): Promise<void> {
    await page.evaluate(() => document.querySelector('[data-panel="period"]')?.setAttribute("data-before", ""));
    await act();
    await page.waitForFunction(
      () => document.querySelector('[data-panel="period"]:not([data-before])') !== null && document.querySelector('[data-panel="kpis"]') !== null,
      undefined,
      { timeout: 20_000 },
    );
  }
  const periodLine = () => page.$eval('[data-panel="period"]', e => e.textContent).catch(() => null);

  /** Every panel holds the API's numbers for `range`. */
  async function expectPanelsEqualApi(range: Record<string, unknown>): Promise<void> {
    const { data } = await api("Dashboard", { range });
    const kpis = await page.$$eval("[data-kpi]", tiles =>
      tiles.map(t => [t.getAttribute("data-kpi"), Number(t.querySelector("strong")!.getAttribute("data-value")), Number(t.querySelector("[data-previous]")?.getAttribute("data-previous"))]),
    );
    expect(kpis).toEqual(kpis.map(([field]) => [field, data.overview[field as string], data.overview.previous[field as string]]));
    expect(kpis.length).toBe(8);
    expect(await page.$eval('[data-kpi="totalRevenue"] strong', e => e.textContent)).toBe(new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(data.overview.totalRevenue));
    expect(JSON.parse((await page.$eval("#chart", e => e.getAttribute("data-value")))!)).toEqual(data.revenueTimeseries.series.map((p: { revenue: number }) => p.revenue));
    expect(await valuesIn("funnel")).toEqual(data.funnel.steps.map((s: { count: number }) => s.count));
    expect(await valuesIn("top-products")).toEqual(data.topProducts.products.flatMap((p: any) => [p.revenue, p.quantity, p.orders]));
    for (const [panel, rows] of [["channels", data.channels.rows], ["devices", data.devices.rows], ["platforms", data.platforms.rows], ["countries", data.countries.rows], ["coupons", data.coupons.rows]] as const)
      expect([panel, await valuesIn(panel)]).toEqual([panel, rows.flatMap((r: any) => [r.revenue, r.orders])]);
    const c = data.cartAbandonment;
    expect(await valuesIn("carts")).toEqual([c.abandonmentRate, c.abandonedCarts, c.abandonedRevenue, c.completedCarts, c.openCarts]);
    const unattributed = [data.lastClick, data.linear, data.timeDecay].map((m: any) => m.unattributed.revenue);
    expect((await valuesIn("attribution")).slice(-3)).toEqual(unattributed);
    expect(await valuesIn("cohorts")).toEqual(data.cohorts.cohorts.flatMap((m: any) => [m.users, ...m.revenueByMonth.map((r: any) => r.revenue)]));
    const s = data.ingestionStats;
    expect(await valuesIn("ingestion")).toEqual([s.accepted, s.stored, s.duplicates, s.flagged, s.blocked, s.rejected, ...s.errors.map((e: any) => e.count)]);
    // The generator's data is not empty: the comparisons above compared something.
    expect(data.overview.totalOrders).toBeGreaterThan(0);
    expect(data.topProducts.products.length).toBeGreaterThan(0);
  }

  it("shows every report of the last 30 days with the API's numbers, then of the last 7 days and of a custom range", async () => {
    await page.goto(h.url.replace(/\/graphql$/, "/dashboard/"));
    await page.fill("#key", shop.secretKey);
    await answerTo(() => page.click("#key-form button[type=submit]"));
    // The key is in this tab's sessionStorage only, never in the URL or a cookie.
    expect(await page.evaluate(() => sessionStorage.getItem("analytics.secretKey"))).toBe(shop.secretKey);
    expect(page.url()).not.toContain(shop.secretKey);
    expect(await page.context().cookies()).toEqual([]);
    await expectPanelsEqualApi({ days: 30 });
    await page.screenshot({ path: path.join(OUT, "dashboard-1440.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(OUT, "dashboard-390.png"), fullPage: true });
    await page.setViewportSize({ width: 1440, height: 900 });

    await answerTo(() => page.selectOption("#range", "7"));
    await expectPanelsEqualApi({ days: 7 });

    // A custom range: the 40th to the 20th day back.
    const day = (back: number) => new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10);
    await page.selectOption("#range", "custom");
    await page.fill("#start", day(40));
    await page.fill("#end", day(20));
    await answerTo(() => page.click("#custom button[type=submit]"));
    expect(await periodLine()).toMatch(new RegExp(`^${day(40)} to ${day(20)} `));
    await expectPanelsEqualApi({ start: day(40), end: day(20) });
  }, 60_000);

  it("says what to send when a range holds no events", async () => {
    const empty = await h.appspace({ name: "empty", currency: "USD" });
    await page.click("#forget");
    await page.fill("#key", empty.secretKey);
    await answerTo(() => page.click("#key-form button[type=submit]"));
    expect(await page.$eval('[data-panel="empty"]', e => e.textContent)).toMatch(/No events in this range yet.*Send one.*trackEvent/s);
    expect(await page.$eval('[data-kpi="totalOrders"] strong', e => e.getAttribute("data-value"))).toBe("0");
    // Back to the shop's key for the tests after.
    await page.click("#forget");
    await page.fill("#key", shop.secretKey);
    await answerTo(() => page.click("#key-form button[type=submit]"));
    expect(await page.$('[data-panel="empty"]')).toBeNull();
  }, 30_000);

  it("looks a person's journey up, and asks for a deletion only once confirmed", async () => {
    const [person] = await h.db.query("SELECT user_id FROM events WHERE appspace_id = ? AND user_id IS NOT NULL ORDER BY id LIMIT 1", [shop.appspaceId]);
    const { data } = await api("Journey", { userId: person.user_id });
    await page.fill('[aria-label="userId"]', person.user_id);
    // Personal data: shown only once confirmed.
    page.once("dialog", dialog => void dialog.dismiss());
    await page.click(".people button[type=submit]");
    expect(await page.$(".people-out table")).toBeNull();
    page.once("dialog", dialog => void dialog.accept());
    await page.click(".people button[type=submit]");
    await page.waitForSelector(".people-out table");
    expect(await page.$$eval(".people-out tr", rows => rows.length - 1)).toBe(data.userJourney.events.length);

    // Dismissed: nothing asked. Accepted: the request is made and its status shown.
    page.once("dialog", dialog => void dialog.dismiss());
    await page.click(".people button.danger");
    expect(await h.count("deletion_requests")).toBe(0);
    page.once("dialog", dialog => void dialog.accept());
    await page.click(".people button.danger");
    await page.waitForSelector("[data-deletion]");
    const [request] = await h.db.query("SELECT public_id, status FROM deletion_requests");
    expect(await page.$eval("[data-deletion]", e => e.getAttribute("data-deletion"))).toBe(request.public_id);
  }, 30_000);

  it("serves GraphiQL at /explorer with the prompt's key in its headers, and runs a report there", async () => {
    const dashboardUrl = h.url.replace(/\/graphql$/, "/dashboard/");
    // The key the dashboard's prompt keeps in this tab.
    await page.goto(dashboardUrl);
    await page.evaluate(key => sessionStorage.setItem("analytics.secretKey", key), shop.secretKey);
    try {
      await page.goto(h.url.replace(/\/graphql$/, "/explorer"));
      await page.waitForSelector(".graphiql-container .graphiql-execute-button");
      const editors = () => page.$$eval(".graphiql-container .CodeMirror", list => list.map(e => (e as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue()));
      // GraphiQL loads its editors (CodeMirror) after the page: wait until the headers editor holds its text.
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll(".graphiql-container .CodeMirror")).some(e => (e as unknown as { CodeMirror?: { getValue(): string } }).CodeMirror?.getValue().includes("authorization")),
      );
      const headers = (await editors()).find(v => v.includes("authorization"));
      expect(JSON.parse(headers!)).toEqual({ authorization: `Bearer ${shop.secretKey}` });
      await page.click(".graphiql-execute-button");
      await page.waitForFunction(() => /totalRevenue/.test(document.querySelector(".result-window")?.textContent ?? ""));
      const result = (await editors()).find(v => v.includes('"data"'));
      const { data } = await api("Dashboard", { range: { days: 30 } });
      expect(JSON.parse(result!).data.overview).toMatchObject({ totalRevenue: data.overview.totalRevenue, totalOrders: data.overview.totalOrders });
    } finally {
      await page.goto(dashboardUrl);
    }
  }, 30_000);

  it("shows a wrong key's refusal as the API words it", async () => {
    const refusal = await api("Dashboard", { range: { days: 30 } }, "sk_wrong");
    await page.click("#forget");
    await page.fill("#key", "sk_wrong");
    await page.click("#key-form button[type=submit]");
    await page.waitForSelector("#error:not([hidden])");
    expect(await page.$eval("#error", e => e.textContent)).toBe(`${refusal.errors![0].message} (${refusal.errors![0].extensions.code})`);
    expect(refusal.errors![0].extensions.code).toBe("UNAUTHENTICATED");
  }, 30_000);

  it("draws every panel with a key that only reads reports, and shows a journey's refusal naming the scope", async () => {
    const { key: reader } = await createKey(h.db, shop.appspaceId, "secret", { scopes: "reports:read" });
    await page.click("#forget");
    await page.fill("#key", reader);
    await answerTo(() => page.click("#key-form button[type=submit]"));
    await expectPanelsEqualApi({ days: 30 });

    const refusal = await api("Journey", { userId: "someone" }, reader);
    expect(refusal.errors![0].extensions).toEqual({ code: "FORBIDDEN", scope: "people:read" });
    await page.fill('[aria-label="userId"]', "someone");
    page.once("dialog", dialog => void dialog.accept());
    await page.click(".people button[type=submit]");
    await page.waitForSelector("#error:not([hidden])");
    expect(await page.$eval("#error", e => e.textContent)).toBe("userJourney needs a key with the scope people:read; this key has: reports:read (FORBIDDEN)");
  }, 30_000);
});

describe("the zero-config start's demo data", () => {
  it("gives the demo appspace a week of generated events with DEMO_DATA=1, which the dashboard's key opens", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "demo-data-"));
    const server = await startServerProcess({ SQLITE_PATH: path.join(dir, "db.sqlite"), AUDIT_SECRET_FILE: path.join(dir, "audit.key"), DEMO_DATA: "1" });
    try {
      const key = /secret key:\s+(sk_\S+)/.exec(server.out())![1];
      expect(server.out()).toContain(`${server.url.replace(/\/graphql$/, "/dashboard")} and paste the secret key`);
      const week = (await gqlAt(server.url, key, "{ overview(range: { days: 7 }) { totalOrders } funnel(range: { days: 7 }) { steps { count } } }")).data;
      expect(week.overview.totalOrders).toBeGreaterThan(10);
      expect(week.funnel.steps[0].count).toBeGreaterThan(week.funnel.steps.at(-1).count);
      expect((await fetch(server.url.replace(/\/graphql$/, "/dashboard/"))).status).toBe(200);
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("is on for the zero-config start only", () => {
    expect(loadConfig({}).demoData).toBe(true);
    expect(loadConfig({ DATABASE_URL: "mysql://db/x" }).demoData).toBe(false);
    expect(loadConfig({ NODE_ENV: "production" }).demoData).toBe(false);
    expect(loadConfig({ NODE_ENV: "test" }).demoData).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", DEMO_DATA: "1" }).demoData).toBe(true);
  });
});
