import { queryRows, sql } from "../db/query";
import { toNumber } from "../db/sql";
import { daysOf } from "./range";
import { ReportScope } from "./scope";
import { refundSource, salesSource } from "./sources";

export interface SalesTotals {
  /** Minor units of the base currency. */
  revenue: number;
  orders: number;
  itemsSold: number;
}

/** Revenue, orders and units sold of the stored purchases in the period. */
export async function salesTotals(scope: ReportScope): Promise<SalesTotals> {
  const [row] = await queryRows(scope.db, sql`
    SELECT COALESCE(SUM(s.orders), 0) AS orders, COALESCE(SUM(s.revenue), 0) AS revenue, COALESCE(SUM(s.items), 0) AS items FROM (${await salesSource(scope, [])}) s`);
  return { revenue: toNumber(row.revenue), orders: toNumber(row.orders), itemsSold: toNumber(row.items) };
}

export interface RefundTotals {
  count: number;
  /** Minor units of the base currency. */
  amount: number;
}

/** REFUND and CANCEL events in the period and the amount they take back. */
export async function refundTotals(scope: ReportScope): Promise<RefundTotals> {
  const [row] = await queryRows(scope.db, sql`
    SELECT COALESCE(SUM(s.refunds), 0) AS refunds, COALESCE(SUM(s.amount), 0) AS amount FROM (${await refundSource(scope)}) s`);
  return { count: toNumber(row.refunds), amount: toNumber(row.amount) };
}

export interface DailySales {
  date: string;
  revenue: number;
  orders: number;
}

/** Purchases per UTC day, one entry for every day of the period (zeros included). */
export async function dailySales(scope: ReportScope): Promise<DailySales[]> {
  const rows = await queryRows<{ day: string; revenue: unknown; orders: unknown }>(scope.db, sql`
    SELECT s.day, COALESCE(SUM(s.revenue), 0) AS revenue, SUM(s.orders) AS orders FROM (${await salesSource(scope, [], { daily: true })}) s GROUP BY s.day`);
  const byDay = new Map(rows.map(r => [r.day, r]));
  return daysOf(scope.period).map(date => {
    const r = byDay.get(date);
    return { date, revenue: toNumber(r?.revenue), orders: toNumber(r?.orders) };
  });
}
