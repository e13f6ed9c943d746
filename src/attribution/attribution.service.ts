import DataLoader from "dataloader";
import { DataSource } from "typeorm";
import { joinSql, queryRows, Sql, sql } from "../db/query";
import { fromDbTime, toNumber } from "../db/sql";
import { BadUserInputError } from "../errors";
import { personOf } from "../identity/persons";
import { addDays, Period, periodOf } from "../reports/range";
import { eventsIn, money, notFlagged, percent, ReportScope } from "../reports/scope";
import { buyerSource, staleDaysOf } from "../reports/sources";
import { Attribution, AttributionModel } from "./attribution.types";
import { Touch, touchesOf } from "./touches";

export const WINDOWS = [7, 14, 30, 60, 90] as const;
const DAY_MS = 86_400_000;
const HALF_LIFE_DAYS = 7;

interface Purchase { at: number; revenue: number; person: string | null }

/** The purchases of a period and, per person, their touchpoints of up to the longest window before it. */
export interface AttributionInputs {
  purchases: Purchase[];
  touches: Map<string, Touch[]>;
}

/**
 * Reads attribution inputs once per period and request: aliases asking for
 * several models or windows over the same range share the two statements.
 */
export function createAttributionLoader(db: DataSource, appspaceId: number) {
  return new DataLoader<AttributionRead, AttributionInputs, string>(
    reads => Promise.all(reads.map(read => readInputs(db, appspaceId, read))),
    { cacheKeyFn: r => `${r.period.from}|${r.period.to}|${r.includeFlagged}|${r.rollups !== false}` },
  );
}

export type AttributionRead = Pick<ReportScope, "period" | "includeFlagged" | "rollups">;

async function readInputs(db: DataSource, appspaceId: number, { period, includeFlagged, rollups }: AttributionRead): Promise<AttributionInputs> {
  const { join, person } = personOf();
  const scope = { db, appspace: { id: appspaceId }, period, includeFlagged };
  const window = periodOf(addDays(period.start, -Math.max(...WINDOWS)), period.end);
  const stale = rollups === false ? null : await staleDaysOf({ ...scope, period: window });
  const purchases = queryRows(db, sql`
    SELECT e.occurred_at AS at, e.revenue, ${person} AS person FROM events e ${join} WHERE ${eventsIn(scope, ["PURCHASE"])}`)
    .then(rows => rows.map(p => ({ at: fromDbTime(p.at as string).getTime(), revenue: toNumber(p.revenue), person: (p.person as string | null) ?? null })));
  if (stale === null) {
    const buyers = sql`SELECT ${person} AS person FROM events e ${join} WHERE ${eventsIn(scope, ["PURCHASE"])}`;
    const [bought, touched] = await Promise.all([purchases, touchesFromEvents(db, appspaceId, window, buyers, includeFlagged)]);
    return { purchases: bought, touches: touched };
  }
  // The buyers' touches are read beside their purchases (on another connection), the buyers taken from rollup_buyers.
  const [bought, read] = await Promise.all([purchases, touchesOf(db, appspaceId, window, stale, buyerSource(scope, stale), includeFlagged)]);
  // A purchase that committed after the stale days were read, on a day read as clean, is not in rollup_buyers yet: its person's touches are read now.
  const missing = [...new Set(bought.flatMap(p => (p.person !== null && !read.buyers.has(p.person) ? [p.person] : [])))];
  // (400 at a time: SQLite takes at most 500 SELECTs in a UNION.)
  for (let i = 0; i < missing.length; i += 400) {
    const late = await touchesOf(db, appspaceId, window, stale, joinSql(missing.slice(i, i + 400).map(p => sql`SELECT ${p} AS person`), " UNION ALL "), includeFlagged);
    for (const [who, touches] of late.touches) read.touches.set(who, touches);
  }
  return { purchases: bought, touches: read.touches };
}

/** The touches of the people `buyers` selects in the period, from raw events in one statement. */
async function touchesFromEvents(db: DataSource, appspaceId: number, period: Period, buyers: Sql, includeFlagged: boolean): Promise<Map<string, Touch[]>> {
  const toucher = personOf("t");
  const touches = await queryRows(db, sql`
    SELECT t.id, t.occurred_at AS at, t.campaign, t.source, t.medium, ${toucher.person} AS person FROM events t ${toucher.join}
    WHERE t.appspace_id = ${appspaceId} AND t.occurred_at >= ${period.from} AND t.occurred_at < ${period.to}
      AND (t.campaign IS NOT NULL OR t.source IS NOT NULL OR t.medium IS NOT NULL)${notFlagged(includeFlagged, "t")}
      AND ${toucher.person} IN (${buyers})`);
  const byPerson = new Map<string, Touch[]>();
  for (const t of touches) {
    const list = byPerson.get(t.person as string) ?? [];
    list.push({ at: fromDbTime(t.at as string).getTime(), id: toNumber(t.id), campaign: t.campaign as string | null, source: t.source as string | null, medium: t.medium as string | null });
    byPerson.set(t.person as string, list);
  }
  for (const list of byPerson.values()) list.sort((a, b) => a.at - b.at || a.id - b.id);
  return byPerson;
}

/** Each touchpoint's share of a purchase's credit under the model. */
function shares(model: AttributionModel, touches: Touch[], purchaseAt: number): number[] {
  if (model === AttributionModel.LAST_CLICK) return touches.map((_, i) => (i === touches.length - 1 ? 1 : 0));
  if (model === AttributionModel.LINEAR) return touches.map(() => 1 / touches.length);
  const weights = touches.map(t => 2 ** (-(purchaseAt - t.at) / DAY_MS / HALF_LIFE_DAYS));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map(w => w / sum);
}

/**
 * Credits each purchase in the period to the channels (campaign/source/medium)
 * of its person's touchpoints within `window` days before it, the purchase
 * itself included; purchases without one are unattributed.
 */
export async function attribute(scope: ReportScope, inputs: AttributionInputs, model: AttributionModel, window: number): Promise<Attribution> {
  if (!(WINDOWS as readonly number[]).includes(window)) {
    throw new BadUserInputError(`window must be one of ${WINDOWS.join(", ")} (days); got ${window}`, { field: "window" });
  }
  const channels = new Map<string, { campaign: string | null; source: string | null; medium: string | null; revenue: number; orders: number }>();
  let unattributedRevenue = 0;
  let unattributedOrders = 0;
  let total = 0;
  for (const p of inputs.purchases) {
    total += p.revenue;
    const touches = (p.person === null ? [] : inputs.touches.get(p.person) ?? []).filter(t => t.at <= p.at && p.at - t.at <= window * DAY_MS);
    if (touches.length === 0) {
      unattributedRevenue += p.revenue;
      unattributedOrders += 1;
      continue;
    }
    shares(model, touches, p.at).forEach((share, i) => {
      if (share === 0) return;
      const { campaign, source, medium } = touches[i];
      const key = JSON.stringify([campaign, source, medium]);
      const c = channels.get(key) ?? { campaign, source, medium, revenue: 0, orders: 0 };
      c.revenue += p.revenue * share;
      c.orders += share;
      channels.set(key, c);
    });
  }
  const attributed = [...channels.values()]
    .map(c => ({ ...c, revenue: money(scope, Math.round(c.revenue)), orders: Math.round(c.orders * 1000) / 1000, pctOfTotal: percent(c.revenue, total) }))
    .sort((a, b) => b.revenue - a.revenue || compareNullsFirst(a.campaign, b.campaign) || compareNullsFirst(a.source, b.source) || compareNullsFirst(a.medium, b.medium));
  return {
    attributed,
    unattributed: { revenue: money(scope, unattributedRevenue), orders: unattributedOrders },
    model,
    windowDays: window,
  };
}

function compareNullsFirst(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
