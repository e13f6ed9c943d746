import { queryRows, sql } from "../../db/query";
import { secondsBetween } from "../../db/dialect";
import { toNumber } from "../../db/sql";
import { daysOf } from "../../days";
import { eventsIn, ReportScope } from "../scope";
import { refundSource, salesSource } from "./sources";

export interface SalesTotals {
  /** Minor units of the base currency. */
  revenue: number;
  orders: number;
  itemsSold: number;
}

/** Revenue, orders and units sold of the stored purchases in the period. */
export async function salesTotals(scope: ReportScope): Promise<SalesTotals> {
  const [row] = await queryRows(
    scope.db,
    sql`
    SELECT COALESCE(SUM(s.orders), 0) AS orders, COALESCE(SUM(s.revenue), 0) AS revenue, COALESCE(SUM(s.items), 0) AS
    items FROM (${await salesSource(scope, [])}) s`,
  );
  return { revenue: toNumber(row.revenue), orders: toNumber(row.orders), itemsSold: toNumber(row.items) };
}

export interface RefundTotals {
  count: number;
  /** Minor units of the base currency. */
  amount: number;
}

/** REFUND and CANCEL events in the period and the amount they take back. */
export async function refundTotals(scope: ReportScope): Promise<RefundTotals> {
  const [row] = await queryRows(
    scope.db,
    sql`
    SELECT COALESCE(SUM(s.refunds), 0) AS refunds, COALESCE(SUM(s.amount), 0) AS amount FROM
    (${await refundSource(scope)}) s`,
  );
  return { count: toNumber(row.refunds), amount: toNumber(row.amount) };
}

export interface DailySales {
  date: string;
  revenue: number;
  orders: number;
}

/** Purchases per UTC day, one entry for every day of the period (zeros included). */
export async function dailySales(scope: ReportScope): Promise<DailySales[]> {
  const rows = await queryRows<{ day: string; revenue: unknown; orders: unknown }>(
    scope.db,
    sql`
    SELECT s.day, COALESCE(SUM(s.revenue), 0) AS revenue, SUM(s.orders) AS orders FROM
    (${await salesSource(scope, [], { daily: true })}) s GROUP BY s.day`,
  );
  const byDay = new Map(rows.map(r => [r.day, r]));
  return daysOf(scope.period).map(date => {
    const r = byDay.get(date);
    return { date, revenue: toNumber(r?.revenue), orders: toNumber(r?.orders) };
  });
}

export interface FulfilmentTotals {
  orders: number;
  /** Mean hours from purchase to fulfilment, over the orders whose purchase is stored; 0 for none. */
  avgHours: number;
}

/**
 * Orders fulfilled in the period: those with a FULFILL event in it, counted once however many partial fulfilments
 * they had, and the mean time from each one's purchase to its first FULFILL of the period. FULFILL events are few
 * (one or two per order, when a shop sends them at all): read raw, through the type index.
 */
export async function fulfilmentTotals(scope: ReportScope): Promise<FulfilmentTotals> {
  const [row] = await queryRows(
    scope.db,
    sql`
    SELECT COUNT(*) AS orders, AVG(${secondsBetween(scope.db, "p.occurred_at", "f.first_at")}) AS seconds FROM (
      SELECT f.transaction_id, MIN(f.occurred_at) AS first_at FROM events f WHERE ${eventsIn(scope, ["FULFILL"], "f")}
      GROUP BY f.transaction_id
    ) f LEFT JOIN orders o ON o.appspace_id = ${scope.appspace.id} AND o.transaction_id = f.transaction_id
    LEFT JOIN events p ON p.id = o.purchase_row_id`,
  );
  const seconds = row.seconds === null ? 0 : Number(row.seconds);
  return { orders: toNumber(row.orders), avgHours: Math.round(seconds / 360) / 10 };
}
