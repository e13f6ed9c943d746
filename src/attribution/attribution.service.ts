import DataLoader from "dataloader";
import { DataSource } from "typeorm";
import { joinSql, queryRows, Sql, sql } from "../db/query";
import { Db, fromDbTime, toNumber, withTransaction } from "../db/sql";
import { BadUserInputError } from "../errors";
import { dayRuns, notFlagged, personOf } from "../events/event-sql";
import { addDays, daysOf, Period, periodOf } from "../days";
import { eventsIn, money, percent, ReportScope, staleDaysOf } from "../reports/scope";
import { staleEvents } from "../reports/sales/sources";
import { Attribution, AttributionModel } from "./attribution.types";
import { Touch, touchesOf } from "./touches";

export const WINDOWS = [7, 14, 30, 60, 90] as const;
const MODELS = Object.values(AttributionModel);
/** Days before a purchase whose touches count: the longest window. */
const REACH = Math.max(...WINDOWS);
const DAY_MS = 86_400_000;
const HALF_LIFE_DAYS = 7;
/** Thousandths of an order: how order credit is counted (the API shows three decimals). */
const ORDER = 1000;

interface Purchase {
  at: number;
  revenue: number;
  person: string | null;
  flagged: boolean;
}

/**
 * Credit of a channel (revenue in minor units, orders in thousandths); campaign, source and medium all null:
 * unattributed.
 */
interface Credit {
  campaign: string | null;
  source: string | null;
  medium: string | null;
  revenue: number;
  orders: number;
}

/**
 * What a period's attribution is computed from: the credits stored for its days read from rollups (every model and
 * window, summed over those days), and the purchases of its other days with, per person, their touches of up to the
 * longest window before.
 */
export interface AttributionInputs {
  stored: (Credit & { model: string; window: number })[];
  purchases: Purchase[];
  touches: Map<string, Touch[]>;
}

/**
 * Reads attribution inputs once per period and request: aliases asking for
 * several models or windows over the same range share the statements.
 */
export function createAttributionLoader(db: DataSource, appspaceId: number) {
  return new DataLoader<AttributionRead, AttributionInputs, string>(
    reads => Promise.all(reads.map(read => readInputs(db, appspaceId, read))),
    { cacheKeyFn: r => `${r.period.from}|${r.period.to}|${r.includeFlagged}|${r.rollups !== false}` },
  );
}

export type AttributionRead = Pick<ReportScope, "period" | "includeFlagged" | "rollups">;

async function readInputs(
  db: DataSource,
  appspaceId: number,
  { period, includeFlagged, rollups }: AttributionRead,
): Promise<AttributionInputs> {
  if (rollups !== false) return withTransaction(db, em => readFromRollups(em, appspaceId, period, includeFlagged));
  const scope = { db, appspace: { id: appspaceId }, period, includeFlagged };
  const { join, person } = personOf();
  const window = periodOf(addDays(period.start, -REACH), period.end);
  const buyers = sql`SELECT ${person} AS person FROM events e ${join} WHERE ${eventsIn(scope, ["PURCHASE"])}`;
  const [bought, touched] = await Promise.all([
    purchasesOf(db, eventsIn(scope, ["PURCHASE"])),
    touchesFromEvents(db, appspaceId, window, buyers, includeFlagged),
  ]);
  return { stored: [], purchases: bought, touches: touched };
}

/**
 * A day's stored credits hold while the day is not marked to be computed again and none of the days whose touches
 * they read (the longest window before it) is stale; the other days are computed from their purchases and their
 * buyers' touches. In one transaction: one snapshot, so that every purchase read has its buyer's touches read.
 */
async function readFromRollups(
  db: Db,
  appspaceId: number,
  period: Period,
  includeFlagged: boolean,
): Promise<AttributionInputs> {
  const scope = { db, appspace: { id: appspaceId }, period, includeFlagged };
  const stale = await staleDaysOf({ ...scope, period: periodOf(addDays(period.start, -REACH), period.end) });
  const marked = await queryRows<{ day: string }>(
    db,
    sql`SELECT DISTINCT day FROM rollup_attribution_dirty
    WHERE appspace_id = ${appspaceId} AND day >= ${period.start} AND day <= ${period.end}`,
  );
  // The days whose credits read a stale day's touches: it and the longest window after it.
  const live = new Set(marked.map(r => r.day));
  for (const day of stale) for (let n = 0; n <= REACH; n++) live.add(addDays(day, n));
  const days = daysOf(period);
  const clean = days.filter(d => !live.has(d));
  // Summed here rather than grouped by the database: MariaDB's comparison of text ignores trailing spaces, channels do
  // not.
  const stored =
    clean.length === 0
      ? []
      : (
          await queryRows<Record<string, unknown>>(
            db,
            sql`
    SELECT model, window_days, campaign, source, medium, revenue, orders FROM rollup_attribution
    WHERE appspace_id = ${appspaceId} AND with_flagged = ${includeFlagged ? 1 : 0} AND ${dayIn(clean)}`,
          )
        ).map(r => ({
          model: r.model as string,
          window: toNumber(r.window_days),
          campaign: r.campaign as string | null,
          source: r.source as string | null,
          medium: r.medium as string | null,
          revenue: toNumber(r.revenue),
          orders: toNumber(r.orders),
        }));
  const computed = days.filter(d => live.has(d));
  if (computed.length === 0) return { stored, purchases: [], touches: new Map() };
  const { from, where } = staleEvents(scope, ["PURCHASE"], "e", computed);
  const { join, person } = personOf();
  const purchases = await purchasesOf(db, where);
  const window = periodOf(addDays(computed[0], -REACH), computed.at(-1)!);
  const { touches } = await touchesOf(
    db,
    appspaceId,
    window,
    stale,
    sql`SELECT ${person} AS person FROM ${from} ${join} WHERE ${where}`,
  );
  return { stored, purchases, touches };
}

/** rollup_attribution's `day` within one of `days`, ascending (runs of consecutive days as one range). */
function dayIn(days: readonly string[]): Sql {
  return sql`(${joinSql(
    dayRuns(days).map(([first, last]) => sql`day >= ${first} AND day <= ${last}`),
    " OR ",
  )})`;
}

/** The purchases of events e (with the person join) matching `where`. */
async function purchasesOf(db: Db, where: Sql): Promise<Purchase[]> {
  const { join, person } = personOf();
  const rows = await queryRows(
    db,
    sql`SELECT e.occurred_at AS at, e.revenue, e.flags, ${person} AS person FROM events e ${join} WHERE ${where}`,
  );
  return rows.map(p => ({
    at: fromDbTime(p.at as string).getTime(),
    revenue: toNumber(p.revenue),
    person: (p.person as string | null) ?? null,
    flagged: p.flags !== null,
  }));
}

/** The touches of the people `buyers` selects in the period, from raw events in one statement. */
async function touchesFromEvents(
  db: DataSource,
  appspaceId: number,
  period: Period,
  buyers: Sql,
  includeFlagged: boolean,
): Promise<Map<string, Touch[]>> {
  const toucher = personOf("t");
  const touches = await queryRows(
    db,
    sql`
    SELECT t.id, t.occurred_at AS at, t.campaign, t.source, t.medium, ${toucher.person} AS person FROM events t
    ${toucher.join}
    WHERE t.appspace_id = ${appspaceId} AND t.occurred_at >= ${period.from} AND t.occurred_at < ${period.to}
      AND (t.campaign IS NOT NULL OR t.source IS NOT NULL OR t.medium IS NOT NULL)${notFlagged(includeFlagged, "t")}
      AND ${toucher.person} IN (${buyers})`,
  );
  const byPerson = new Map<string, Touch[]>();
  for (const t of touches) {
    const list = byPerson.get(t.person as string) ?? [];
    // Flagged or not, these are the touches asked for.
    list.push({
      at: fromDbTime(t.at as string).getTime(),
      id: toNumber(t.id),
      campaign: t.campaign as string | null,
      source: t.source as string | null,
      medium: t.medium as string | null,
      flagged: false,
    });
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
 * `amount` (an integer) split in integers by `shares` (summing to 1): each gets the floor of its share, what is left
 * goes one by one to the largest remainders (the later touch on ties), so the parts add up to `amount` exactly.
 */
function split(amount: number, shares: readonly number[]): number[] {
  const exact = shares.map(s => amount * s);
  const parts = exact.map(Math.floor);
  let left = amount - parts.reduce((a, b) => a + b, 0);
  const order = parts.map((_, i) => i).sort((a, b) => exact[b] - parts[b] - (exact[a] - parts[a]) || b - a);
  for (let k = 0; left > 0; k++, left--) parts[order[k % order.length]]++;
  return parts;
}

/**
 * Sums credits: each purchase's revenue is split among the channels of its person's touchpoints within `window` days
 * before it (the purchase itself included) in whole minor units, and its order in thousandths, so that rollups and raw
 * events add up to the same figures whatever the order; purchases without one are unattributed.
 */
class Tally {
  readonly channels = new Map<string, Credit>();
  unattributedRevenue = 0;
  unattributedOrders = 0;
  total = 0;

  constructor(
    private readonly model: AttributionModel,
    private readonly window: number,
    private readonly withFlagged: boolean,
  ) {}

  add(credit: Credit): void {
    this.total += credit.revenue;
    if (credit.campaign === null && credit.source === null && credit.medium === null) {
      this.unattributedRevenue += credit.revenue;
      this.unattributedOrders += credit.orders;
      return;
    }
    const key = JSON.stringify([credit.campaign, credit.source, credit.medium]);
    const c = this.channels.get(key);
    if (c) {
      c.revenue += credit.revenue;
      c.orders += credit.orders;
    } else
      this.channels.set(key, {
        campaign: credit.campaign,
        source: credit.source,
        medium: credit.medium,
        revenue: credit.revenue,
        orders: credit.orders,
      });
  }

  addPurchase(p: Purchase, touched: readonly Touch[] | undefined): void {
    if (p.flagged && !this.withFlagged) return;
    const { window, withFlagged } = this;
    const touches = (touched ?? []).filter(
      t => (withFlagged || !t.flagged) && t.at <= p.at && p.at - t.at <= window * DAY_MS,
    );
    if (touches.length === 0) {
      this.add({ campaign: null, source: null, medium: null, revenue: p.revenue, orders: ORDER });
      return;
    }
    const share = shares(this.model, touches, p.at);
    const [revenue, orders] = [split(p.revenue, share), split(ORDER, share)];
    touches.forEach(({ campaign, source, medium }, i) => {
      if (share[i] > 0) this.add({ campaign, source, medium, revenue: revenue[i], orders: orders[i] });
    });
  }
}

/** The rows of the day's purchases in rollup_attribution, but appspace and day: every variant, model and window. */
export async function attributionDayRows(db: Db, appspaceId: number, day: string): Promise<unknown[][]> {
  const { from, to } = periodOf(day, day);
  const where = sql`e.appspace_id = ${appspaceId} AND e.event_type = 'PURCHASE' AND e.occurred_at >= ${from} AND
    e.occurred_at < ${to}`;
  const purchases = await purchasesOf(db, where);
  if (purchases.length === 0) return [];
  const { join, person } = personOf();
  const window = periodOf(addDays(day, -REACH), day);
  const { touches } = await touchesOf(
    db,
    appspaceId,
    window,
    new Set(),
    sql`SELECT ${person} AS person FROM events e ${join} WHERE ${where}`,
  );
  const rows: unknown[][] = [];
  for (const withFlagged of [false, true]) {
    for (const model of MODELS) {
      for (const days of WINDOWS) {
        const tally = new Tally(model, days, withFlagged);
        for (const p of purchases) tally.addPurchase(p, p.person === null ? undefined : touches.get(p.person));
        const credits = [...tally.channels.values()];
        if (tally.unattributedOrders > 0)
          credits.push({
            campaign: null,
            source: null,
            medium: null,
            revenue: tally.unattributedRevenue,
            orders: tally.unattributedOrders,
          });
        for (const c of credits)
          rows.push([
            withFlagged ? 1 : 0,
            rows.length + 1,
            model,
            days,
            c.campaign,
            c.source,
            c.medium,
            c.revenue,
            c.orders,
          ]);
      }
    }
  }
  return rows;
}

/**
 * Credits the period's purchases to the channels (campaign/source/medium) of their people's touchpoints within `window`
 * days before each, the purchase itself included; purchases without one are unattributed.
 */
export async function attribute(
  scope: ReportScope,
  inputs: AttributionInputs,
  model: AttributionModel,
  window: number,
): Promise<Attribution> {
  if (!(WINDOWS as readonly number[]).includes(window)) {
    throw new BadUserInputError(`window must be one of ${WINDOWS.join(", ")} (days); got ${window}`, {
      field: "window",
    });
  }
  const tally = new Tally(model, window, scope.includeFlagged);
  for (const c of inputs.stored) if (c.model === model && c.window === window) tally.add(c);
  for (const p of inputs.purchases) tally.addPurchase(p, p.person === null ? undefined : inputs.touches.get(p.person));
  const attributed = [...tally.channels.values()]
    .map(c => ({
      ...c,
      revenue: money(scope, c.revenue),
      orders: c.orders / ORDER,
      pctOfTotal: percent(c.revenue, tally.total),
    }))
    .sort(
      (a, b) =>
        b.revenue - a.revenue ||
        compareNullsFirst(a.campaign, b.campaign) ||
        compareNullsFirst(a.source, b.source) ||
        compareNullsFirst(a.medium, b.medium),
    );
  return {
    attributed,
    unattributed: { revenue: money(scope, tally.unattributedRevenue), orders: tally.unattributedOrders / ORDER },
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
