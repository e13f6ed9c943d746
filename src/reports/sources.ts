import { dayOf, raw, Sql, sql } from "../db/query";
import { Db, isMysql } from "../db/sql";
import { eventsIn, notFlagged, ReportScope } from "./scope";

/*
 * The rows reports aggregate, from raw events or from the daily rollups.
 *
 * Each source is a derived table with the same columns either way, so a report's
 * outer query does not know which it reads. Served from rollups, a source is the
 * rollup rows of the period's clean days plus the same rows computed from raw
 * events for its stale days (those named in rollup_dirty), in one statement, so
 * every day is counted once, from one consistent snapshot.
 */

/** The order-level dimensions purchases are rolled up by (columns of events and of rollup_sales). */
export const ORDER_DIMENSIONS = ["campaign", "source", "medium", "coupon_code", "device_type", "platform", "country"] as const;
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

/** Where raw rows come from: a FROM clause that binds `events e` (refunds: `events c`) and its conditions. */
export interface RawSelection {
  from: Sql;
  where: Sql;
}

const flaggedOf = (alias: string) => raw(`CASE WHEN ${alias}.flags IS NULL THEN 0 ELSE 1 END`);

/** One row per purchase: day, flagged, the order dimensions, orders (1), revenue, discount, items (units). */
export function purchaseRows(db: Db, { from, where }: RawSelection): Sql {
  return sql`SELECT ${dayOf(db, "e.occurred_at")} AS day, ${flaggedOf("e")} AS flagged, ${raw(ORDER_DIMENSIONS.map(d => `e.${d}`).join(", "))},
      1 AS orders, e.revenue, e.discount, (SELECT SUM(i.quantity) FROM event_items i WHERE i.event_row_id = e.id) AS items
    FROM ${from} WHERE ${where}`;
}

/** Purchased lines per day, flagged and item: revenue (price x quantity), quantity and orders. */
export function productRows(db: Db, { from, where }: RawSelection): Sql {
  const day = dayOf(db, "e.occurred_at");
  return sql`SELECT ${day} AS day, ${flaggedOf("e")} AS flagged, i.item_id, COALESCE(SUM(i.price * i.quantity), 0) AS revenue,
      SUM(i.quantity) AS quantity, COUNT(DISTINCT e.id) AS orders
    FROM ${from} JOIN event_items i ON i.event_row_id = e.id WHERE ${where}
    GROUP BY ${day}, ${flaggedOf("e")}, i.item_id`;
}

/**
 * `events <alias>` read through the order index (appspace, transactionId, type, time). Most
 * events carry no transactionId, so index statistics undersell this index: it is named.
 */
export function orderEvents(db: Db, alias: string): Sql {
  return raw(isMysql(db) ? `events ${alias} FORCE INDEX (ix_events_transaction_type)` : `events ${alias} INDEXED BY ix_events_transaction_type`);
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
  const earlier = sql`r.appspace_id = c.appspace_id AND r.transaction_id = c.transaction_id AND r.event_type IN ('REFUND', 'CANCEL')
    AND (r.occurred_at < c.occurred_at OR (r.occurred_at = c.occurred_at AND r.id < c.id))`;
  return sql`SELECT id, occurred_at, transaction_id, flags, CASE
      WHEN purchase IS NULL THEN COALESCE(revenue, 0)
      WHEN cancelled = 1 OR purchase - earlier <= 0 THEN 0
      WHEN revenue IS NULL OR revenue > purchase - earlier THEN purchase - earlier
      ELSE revenue
    END AS amount FROM (
      SELECT c.id, c.occurred_at, c.transaction_id, c.revenue, c.flags,
        (SELECT p.revenue FROM ${orderEvents(db, "p")}
          WHERE p.appspace_id = c.appspace_id AND p.transaction_id = c.transaction_id AND p.event_type = 'PURCHASE' AND p.occurred_at <= c.occurred_at
          ORDER BY p.occurred_at DESC, p.id DESC LIMIT 1) AS purchase,
        COALESCE((SELECT SUM(r.revenue) FROM ${orderEvents(db, "r")} WHERE ${earlier}), 0) AS earlier,
        CASE WHEN EXISTS (SELECT 1 FROM ${orderEvents(db, "r")} WHERE ${earlier} AND r.event_type = 'CANCEL' AND r.revenue IS NULL) THEN 1 ELSE 0 END AS cancelled
      FROM ${from} WHERE ${where}
    ) taken`;
}

/** Refunds and cancels per day and flagged: how many, and the amount they take back. */
export function refundRows(db: Db, selection: RawSelection): Sql {
  const day = dayOf(db, "r.occurred_at");
  return sql`SELECT ${day} AS day, ${flaggedOf("r")} AS flagged, COUNT(*) AS refunds, COALESCE(SUM(r.amount), 0) AS amount
    FROM (${refundAmounts(db, selection)}) r GROUP BY ${day}, ${flaggedOf("r")}`;
}

/** Reports read rollups unless told otherwise (the equality test and the benchmark's baseline do). */
const fromRollups = (scope: ReportScope) => scope.rollups !== false;

/** `WITH stale AS (the period's days named in rollup_dirty) `, to start a statement that reads a source; empty for raw reads. */
export function withStale(scope: ReportScope): Sql {
  if (!fromRollups(scope)) return raw("");
  return sql`WITH stale AS (SELECT DISTINCT day FROM rollup_dirty WHERE appspace_id = ${scope.appspace.id} AND day >= ${scope.period.start} AND day <= ${scope.period.end}) `;
}

/** `alias.occurred_at` within the UTC day named by `day` (a YYYY-MM-DD column). */
function onDay(db: Db, alias: string, day: string): Sql {
  return raw(isMysql(db)
    ? `${alias}.occurred_at >= CAST(${day} AS DATETIME) AND ${alias}.occurred_at < CAST(${day} AS DATETIME) + INTERVAL 1 DAY`
    : `${alias}.occurred_at >= ${day} AND ${alias}.occurred_at < date(${day}, '+1 day')`);
}

/** Events of `types` on the period's stale days, for the raw part of a rollup read. */
function staleEvents(scope: ReportScope, types: readonly string[], alias: string): RawSelection {
  const list = raw(types.map(t => `'${t}'`).join(", "));
  return {
    from: sql`stale s JOIN events ${raw(alias)} ON ${raw(alias)}.appspace_id = ${scope.appspace.id} AND ${raw(alias)}.event_type IN (${list}) AND ${onDay(scope.db, alias, "s.day")}`,
    where: sql`1 = 1${notFlagged(scope.includeFlagged, alias)}`,
  };
}

function rollupRows(scope: ReportScope, table: string, columns: string, narrowed: Sql = raw("")): Sql {
  return sql`SELECT ${raw(columns)} FROM ${raw(table)} WHERE appspace_id = ${scope.appspace.id}${narrowed} AND day >= ${scope.period.start} AND day <= ${scope.period.end}
    ${raw(scope.includeFlagged ? "" : "AND flagged = 0 ")}AND day NOT IN (SELECT day FROM stale)`;
}

/**
 * Purchases of the period: columns of purchaseRows (orders summing to the number
 * of purchases), good for grouping by `dimensions` (the other dimension columns
 * may be null).
 */
export function salesSource(scope: ReportScope, dimensions: readonly OrderDimension[]): Sql {
  if (!fromRollups(scope)) return purchaseRows(scope.db, { from: raw("events e"), where: eventsIn(scope, ["PURCHASE"]) });
  const columns = `day, flagged, ${ORDER_DIMENSIONS.join(", ")}, orders, revenue, discount, items`;
  return sql`${rollupRows(scope, "rollup_sales", columns, sql` AND grain = ${grainFor(dimensions)}`)}
    UNION ALL ${purchaseRows(scope.db, staleEvents(scope, ["PURCHASE"], "e"))}`;
}

/** Purchased lines of the period: columns of productRows. */
export function productSource(scope: ReportScope): Sql {
  if (!fromRollups(scope)) return productRows(scope.db, { from: raw("events e"), where: eventsIn(scope, ["PURCHASE"]) });
  return sql`${rollupRows(scope, "rollup_products", "day, flagged, item_id, revenue, quantity, orders")} UNION ALL ${productRows(scope.db, staleEvents(scope, ["PURCHASE"], "e"))}`;
}

/** Refunds and cancels of the period: columns of refundRows. */
export function refundSource(scope: ReportScope): Sql {
  if (!fromRollups(scope)) return refundRows(scope.db, { from: raw("events c"), where: eventsIn(scope, ["REFUND", "CANCEL"], "c") });
  return sql`${rollupRows(scope, "rollup_refunds", "day, flagged, refunds, amount")} UNION ALL ${refundRows(scope.db, staleEvents(scope, ["REFUND", "CANCEL"], "c"))}`;
}
