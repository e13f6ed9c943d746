import { dayOf, queryRows, Sql, sql } from "../db/query";
import { toNumber } from "../db/sql";
import { daysOf } from "./range";
import { eventsIn, ReportScope } from "./scope";

export interface SalesTotals {
  /** Minor units of the base currency. */
  revenue: number;
  orders: number;
  itemsSold: number;
}

/** Revenue, orders and units sold of the stored purchases in the period. */
export async function salesTotals(scope: ReportScope): Promise<SalesTotals> {
  const [row] = await queryRows(scope.db, sql`
    SELECT COUNT(*) AS orders, COALESCE(SUM(e.revenue), 0) AS revenue,
      (SELECT COALESCE(SUM(i.quantity), 0) FROM event_items i JOIN events e ON e.id = i.event_row_id WHERE ${eventsIn(scope, ["PURCHASE"])}) AS items
    FROM events e WHERE ${eventsIn(scope, ["PURCHASE"])}`);
  return { revenue: toNumber(row.revenue), orders: toNumber(row.orders), itemsSold: toNumber(row.items) };
}

export interface RefundTotals {
  count: number;
  /** Minor units of the base currency. */
  amount: number;
}

/**
 * REFUND and CANCEL events matching `where` (on alias c), as a derived table of
 * (id, occurred_at, transaction_id, amount). Each takes back at most what is left
 * of its order: the latest PURCHASE of its transactionId up to it, minus the
 * refunds before it (nothing after an earlier full cancel). A CANCEL without
 * revenue takes all that is left; a refund of an order never tracked counts as sent.
 */
export function refundAmounts(where: Sql): Sql {
  const earlier = sql`r.appspace_id = c.appspace_id AND r.transaction_id = c.transaction_id AND r.event_type IN ('REFUND', 'CANCEL')
    AND (r.occurred_at < c.occurred_at OR (r.occurred_at = c.occurred_at AND r.id < c.id))`;
  return sql`SELECT id, occurred_at, transaction_id, CASE
      WHEN purchase IS NULL THEN COALESCE(revenue, 0)
      WHEN cancelled = 1 OR purchase - earlier <= 0 THEN 0
      WHEN revenue IS NULL OR revenue > purchase - earlier THEN purchase - earlier
      ELSE revenue
    END AS amount FROM (
      SELECT c.id, c.occurred_at, c.transaction_id, c.revenue,
        (SELECT p.revenue FROM events p
          WHERE p.appspace_id = c.appspace_id AND p.transaction_id = c.transaction_id AND p.event_type = 'PURCHASE' AND p.occurred_at <= c.occurred_at
          ORDER BY p.occurred_at DESC, p.id DESC LIMIT 1) AS purchase,
        COALESCE((SELECT SUM(r.revenue) FROM events r WHERE ${earlier}), 0) AS earlier,
        CASE WHEN EXISTS (SELECT 1 FROM events r WHERE ${earlier} AND r.event_type = 'CANCEL' AND r.revenue IS NULL) THEN 1 ELSE 0 END AS cancelled
      FROM events c WHERE ${where}
    ) taken`;
}

/** REFUND and CANCEL events in the period and the amount they take back. */
export async function refundTotals(scope: ReportScope): Promise<RefundTotals> {
  const [row] = await queryRows(scope.db, sql`
    SELECT COUNT(*) AS refunds, COALESCE(SUM(amount), 0) AS amount FROM (${refundAmounts(eventsIn(scope, ["REFUND", "CANCEL"], "c"))}) refunds`);
  return { count: toNumber(row.refunds), amount: toNumber(row.amount) };
}

export interface DailySales {
  date: string;
  revenue: number;
  orders: number;
}

/** Purchases per UTC day, one entry for every day of the period (zeros included). */
export async function dailySales(scope: ReportScope): Promise<DailySales[]> {
  const day = dayOf(scope.db, "e.occurred_at");
  const rows = await queryRows<{ day: string; revenue: unknown; orders: unknown }>(scope.db, sql`
    SELECT ${day} AS day, COALESCE(SUM(e.revenue), 0) AS revenue, COUNT(*) AS orders
    FROM events e WHERE ${eventsIn(scope, ["PURCHASE"])} GROUP BY ${day}`);
  const byDay = new Map(rows.map(r => [r.day, r]));
  return daysOf(scope.period).map(date => {
    const r = byDay.get(date);
    return { date, revenue: toNumber(r?.revenue), orders: toNumber(r?.orders) };
  });
}
