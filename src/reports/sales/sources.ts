import { inList, joinSql, raw, Sql, sql } from "../../db/query";
import { dayOf, dialectOf } from "../../db/dialect";
import { Db } from "../../db/sql";
import {
  eventTypeList,
  flaggedOf,
  notFlagged,
  onDays,
  orderEvents,
  RawSelection,
  tagged,
} from "../../events/event-sql";
import { daysOf } from "../../days";
import { eventsIn, fromRollups, ReportScope, staleDaysOf } from "../scope";

/*
 * The rows reports aggregate, from raw events or from the daily rollups.
 *
 * Each source is a derived table with the same columns either way, so a report's
 * outer query does not know which it reads. Served from rollups, a source is the
 * seven-day rows of spans of clean days, the daily rows of the other clean days,
 * and the same rows computed from raw events for the stale days (those named in
 * rollup_dirty when the report reads the marks, just before), so every day is
 * counted once. A day marked meanwhile is read from its rollup rows as they
 * are: each day's figures are those of one moment.
 */

/** The order-level dimensions purchases are rolled up by (columns of events and of rollup_sales). */
export const ORDER_DIMENSIONS = [
  "campaign",
  "source",
  "medium",
  "coupon_code",
  "device_type",
  "platform",
  "country",
] as const;
export type OrderDimension = (typeof ORDER_DIMENSIONS)[number];

/**
 * The grains of rollup_sales, narrowest first: each day has rows grouped by the
 * grain's dimensions only, so a report reads about as many rows as its answer
 * has (a row per day for the totals) rather than one per combination of all seven.
 */
export const ROLLUP_GRAINS: Record<string, readonly OrderDimension[]> = {
  total: [],
  coupon: ["coupon_code"],
  device: ["device_type"],
  platform: ["platform"],
  country: ["country"],
  channel: ["campaign", "source", "medium"],
  all: ORDER_DIMENSIONS,
};

/** The narrowest grain holding these dimensions. */
export function grainFor(dimensions: readonly OrderDimension[]): string {
  return Object.keys(ROLLUP_GRAINS).find(grain => dimensions.every(d => ROLLUP_GRAINS[grain].includes(d)))!;
}

/**
 * Hours before a purchase in which the latest event with a channel of its person or session gives it that channel, if
 * it has none.
 */
export const CHANNEL_CREDIT_HOURS = 24;

/**
 * The event whose channel a purchase (alias `p`) without one is credited to: the latest event with a channel of the
 * same person or the same session within CHANNEL_CREDIT_HOURS before it (null: none). Its time and id packed (fixed
 * width, so the greatest is the latest), found through the purchase's sessionId and the person's identifiers: the
 * purchase's own one (as userId, or as anonymousId of an event without a userId), and those linked to the same person;
 * each through its own index, so that a lookup reads the person's or the session's events, not the day's.
 */
function creditTouch(db: Db, p: string): Sql {
  const pack = dialectOf(db).timeAndId("t.occurred_at", "t.id");
  const start = dialectOf(db).hoursBefore(`${p}.occurred_at`, CHANNEL_CREDIT_HOURS);
  const within = sql`t.appspace_id = ${raw(p)}.appspace_id AND ${tagged("t")} AND t.occurred_at >= ${start} AND
    t.occurred_at <= ${raw(p)}.occurred_at`;
  const key = raw(`COALESCE(${p}.user_id, ${p}.anonymous_id)`);
  const linked = raw(
    `identity_persons x JOIN identity_persons m ON m.appspace_id = x.appspace_id AND m.person = x.person`,
  );
  const ofLinked = raw(`x.appspace_id = ${p}.appspace_id AND x.identifier = COALESCE(${p}.user_id, ${p}.anonymous_id)`);
  const latest = [
    sql`SELECT MAX(${pack}) FROM events t WHERE ${within} AND t.user_id = ${key}`,
    sql`SELECT MAX(${pack}) FROM events t WHERE ${within} AND t.user_id IS NULL AND t.anonymous_id = ${key}`,
    sql`SELECT MAX(${pack}) FROM ${linked} JOIN events t ON t.appspace_id = m.appspace_id AND t.user_id = m.identifier
      WHERE ${ofLinked} AND ${within}`,
    sql`SELECT MAX(${pack}) FROM ${linked} JOIN events t ON t.appspace_id = m.appspace_id AND t.user_id IS NULL AND
      t.anonymous_id = m.identifier WHERE ${ofLinked} AND ${within}`,
    sql`SELECT MAX(${pack}) FROM events t WHERE ${within} AND t.session_id = ${raw(p)}.session_id`,
  ].map(q => sql`COALESCE((${q}), '')`);
  return sql`CASE WHEN ${tagged(p)} THEN NULL ELSE NULLIF(${raw(dialectOf(db).greatest)}(${joinSql(latest)}), '') END`;
}

/** The row id in a packed touch (creditTouch). */
const touchId = (db: Db, packed: string) => dialectOf(db).idOfTimeAndId(packed);

/**
 * Purchases of `selection` as a derived table `e` of their order-level columns, with the channel they are credited to
 * as campaign, source and medium: their own, or when they carry none, that of the latest event with one of their person
 * or session in the CHANNEL_CREDIT_HOURS before them (creditTouch). Their days' rollups depend on the day before:
 * events with a channel mark the day after theirs stale too (markChangedDays, markPeopleDays).
 */
export function creditedPurchases(db: Db, { from, where }: RawSelection): Sql {
  const own = (d: string) => raw(`CASE WHEN e.touch IS NULL THEN e.${d} ELSE c.${d} END AS ${d}`);
  return sql`(SELECT e.id, e.appspace_id, e.occurred_at, e.flags, e.user_id, e.anonymous_id, ${own("campaign")},
    ${own("source")}, ${own("medium")},
      e.coupon_code, e.device_type, e.platform, e.country, e.revenue, e.discount
    FROM (SELECT e.id, e.appspace_id, e.occurred_at, e.flags, e.user_id, e.anonymous_id, e.campaign, e.source,
    e.medium, e.coupon_code,
        e.device_type, e.platform, e.country, e.revenue, e.discount, ${creditTouch(db, "e")} AS touch FROM ${from}
          WHERE ${where}) e
      LEFT JOIN events c ON c.id = ${touchId(db, "e.touch")}) e`;
}

/**
 * One row per purchase: day, flagged, the order dimensions (its credited channel), orders (1), revenue, discount, items
 * (units).
 */
export function purchaseRows(db: Db, selection: RawSelection): Sql {
  return sql`SELECT ${dayOf(db, "e.occurred_at")} AS day, ${flaggedOf("e")} AS flagged,
    ${raw(ORDER_DIMENSIONS.map(d => `e.${d}`).join(", "))},
      1 AS orders, e.revenue, e.discount, (SELECT SUM(i.quantity) FROM event_items i WHERE i.event_row_id = e.id) AS
        items
    FROM ${creditedPurchases(db, selection)}`;
}

/** Purchased lines per day, flagged and item: revenue (price x quantity), quantity and orders. */
export function productRows(db: Db, { from, where }: RawSelection): Sql {
  const day = dayOf(db, "e.occurred_at");
  return sql`SELECT ${day} AS day, ${flaggedOf("e")} AS flagged, i.item_id, COALESCE(SUM(i.price * i.quantity), 0) AS
    revenue,
      SUM(i.quantity) AS quantity, COUNT(DISTINCT e.id) AS orders
    FROM ${from} JOIN event_items i ON i.event_row_id = e.id WHERE ${where}
    GROUP BY ${day}, ${flaggedOf("e")}, i.item_id`;
}

/**
 * REFUND and CANCEL events of `selection` (alias c), as a derived table of
 * (id, occurred_at, transaction_id, flags, amount). Each takes back at most what is
 * left of its order: the latest PURCHASE of its transactionId up to it, minus the
 * refunds before it (nothing after an earlier full cancel). A CANCEL without
 * revenue takes all that is left; a refund of an order never tracked counts as sent.
 * Flagged or not, every event of the order counts towards what is left.
 */
export function refundAmounts(db: Db, { from, where }: RawSelection): Sql {
  const earlier = sql`r.appspace_id = c.appspace_id AND r.transaction_id = c.transaction_id AND r.event_type IN
    ('REFUND', 'CANCEL')
    AND (r.occurred_at < c.occurred_at OR (r.occurred_at = c.occurred_at AND r.id < c.id))`;
  return sql`SELECT id, occurred_at, transaction_id, flags, CASE
      WHEN purchase IS NULL THEN COALESCE(revenue, 0)
      WHEN cancelled = 1 OR purchase - earlier <= 0 THEN 0
      WHEN revenue IS NULL OR revenue > purchase - earlier THEN purchase - earlier
      ELSE revenue
    END AS amount FROM (
      SELECT c.id, c.occurred_at, c.transaction_id, c.revenue, c.flags,
        (SELECT p.revenue FROM ${orderEvents(db, "p")}
          WHERE p.appspace_id = c.appspace_id AND p.transaction_id = c.transaction_id AND p.event_type = 'PURCHASE' AND
          p.occurred_at <= c.occurred_at
          ORDER BY p.occurred_at DESC, p.id DESC LIMIT 1) AS purchase,
        COALESCE((SELECT SUM(r.revenue) FROM ${orderEvents(db, "r")} WHERE ${earlier}), 0) AS earlier,
        CASE WHEN EXISTS (SELECT 1 FROM ${orderEvents(db, "r")} WHERE ${earlier} AND r.event_type = 'CANCEL' AND
          r.revenue IS NULL) THEN 1 ELSE 0 END AS cancelled
      FROM ${from} WHERE ${where}
    ) taken`;
}

/** Refunds and cancels per day and flagged: how many, and the amount they take back. */
export function refundRows(db: Db, selection: RawSelection): Sql {
  const day = dayOf(db, "r.occurred_at");
  return sql`SELECT ${day} AS day, ${flaggedOf("r")} AS flagged, COUNT(*) AS refunds, COALESCE(SUM(r.amount), 0) AS
    amount
    FROM (${refundAmounts(db, selection)}) r GROUP BY ${day}, ${flaggedOf("r")}`;
}

/** Days a seven-day rollup row covers (rollup_sales_7d, rollup_products_7d): `day` and the six after it. */
export const WEEK = 7;

/**
 * How a period is read from rollups: seven-day rows for spans of seven days none of
 * which is stale (named in rollup_dirty), daily rows for the other days that are not,
 * and raw events for the stale ones. Every day is counted once.
 */
interface ReadPlan {
  /** First days of the seven-day spans. */
  weeks: string[];
  days: string[];
  stale: string[];
}

/** Spans of seven clean days from the first day on, greedily; `daily` reads clean days one by one. */
async function readPlan(scope: ReportScope, daily: boolean): Promise<ReadPlan> {
  const stale = await staleDaysOf(scope);
  const all = daysOf(scope.period);
  const plan: ReadPlan = { weeks: [], days: [], stale: all.filter(d => stale.has(d)) };
  for (let i = 0; i < all.length;) {
    if (!daily && i + WEEK <= all.length && !all.slice(i, i + WEEK).some(d => stale.has(d))) {
      plan.weeks.push(all[i]);
      i += WEEK;
    } else {
      if (!stale.has(all[i])) plan.days.push(all[i]);
      i++;
    }
  }
  return plan;
}

/** Events of `types` (null: any) on the stale days, for the raw part of a rollup read. */
export function staleEvents(
  scope: Pick<ReportScope, "includeFlagged"> & { appspace: { id: number } },
  types: readonly string[] | null,
  alias: string,
  stale: readonly string[],
): RawSelection {
  const typed = types ? sql` AND ${raw(alias)}.event_type IN (${eventTypeList(types)})` : raw("");
  return {
    from: raw(`events ${alias}`),
    where: sql`${raw(alias)}.appspace_id = ${scope.appspace.id}${typed} AND
      ${onDays(alias, stale)}${notFlagged(scope.includeFlagged, alias)}`,
  };
}

/** Rows of a rollup table for these days (first days of spans, for a seven-day table); null for none. */
function rollupRows(
  scope: ReportScope,
  table: string,
  columns: string,
  days: readonly string[],
  narrowed: Sql = raw(""),
): Sql | null {
  if (days.length === 0) return null;
  return sql`SELECT ${raw(columns)} FROM ${raw(table)} WHERE appspace_id = ${scope.appspace.id}${narrowed}
    AND day IN (${inList(days)})${raw(scope.includeFlagged ? "" : " AND flagged = 0")}`;
}

/** The parts of a rollup read, as one derived table's body. */
const unionAll = (parts: (Sql | null)[]) =>
  joinSql(
    parts.filter((p): p is Sql => p !== null),
    " UNION ALL ",
  );

export interface SourceOptions {
  /** The rows are grouped by day: read clean days one by one, never as seven-day spans. */
  daily?: boolean;
}

/**
 * Purchases of the period: columns of purchaseRows (orders summing to the number
 * of purchases), good for grouping by `dimensions` (the other dimension columns
 * may be null). From rollups, `day` is a span's first day for the span's rows.
 */
export async function salesSource(
  scope: ReportScope,
  dimensions: readonly OrderDimension[],
  opts: SourceOptions = {},
): Promise<Sql> {
  if (!fromRollups(scope))
    return purchaseRows(scope.db, { from: raw("events e"), where: eventsIn(scope, ["PURCHASE"]) });
  const plan = await readPlan(scope, opts.daily ?? false);
  const columns = `day, flagged, ${ORDER_DIMENSIONS.join(", ")}, orders, revenue, discount, items`;
  const grain = sql` AND grain = ${grainFor(dimensions)}`;
  return unionAll([
    rollupRows(scope, "rollup_sales_7d", columns, plan.weeks, grain),
    rollupRows(scope, "rollup_sales", columns, plan.days, grain),
    plan.stale.length ? purchaseRows(scope.db, staleEvents(scope, ["PURCHASE"], "e", plan.stale)) : null,
  ]);
}

/** Purchased lines of the period: columns of productRows. */
export async function productSource(scope: ReportScope): Promise<Sql> {
  if (!fromRollups(scope))
    return productRows(scope.db, { from: raw("events e"), where: eventsIn(scope, ["PURCHASE"]) });
  const plan = await readPlan(scope, false);
  const columns = "day, flagged, item_id, revenue, quantity, orders";
  return unionAll([
    rollupRows(scope, "rollup_products_7d", columns, plan.weeks),
    rollupRows(scope, "rollup_products", columns, plan.days),
    plan.stale.length ? productRows(scope.db, staleEvents(scope, ["PURCHASE"], "e", plan.stale)) : null,
  ]);
}

/** Refunds and cancels of the period: columns of refundRows (a row or two per day: read day by day). */
export async function refundSource(scope: ReportScope): Promise<Sql> {
  if (!fromRollups(scope))
    return refundRows(scope.db, { from: raw("events c"), where: eventsIn(scope, ["REFUND", "CANCEL"], "c") });
  const plan = await readPlan(scope, true);
  return unionAll([
    rollupRows(scope, "rollup_refunds", "day, flagged, refunds, amount", plan.days),
    plan.stale.length ? refundRows(scope.db, staleEvents(scope, ["REFUND", "CANCEL"], "c", plan.stale)) : null,
  ]);
}
