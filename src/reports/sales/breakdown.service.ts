import { registerEnumType } from "type-graphql";
import { joinSql, queryRows, raw, sql } from "../../db/query";
import { toNumber } from "../../db/sql";
import { eventsIn, ReportScope } from "../scope";
import { creditedPurchases, OrderDimension, salesSource } from "./sources";

export enum BreakdownDimension {
  CAMPAIGN = "CAMPAIGN",
  SOURCE = "SOURCE",
  MEDIUM = "MEDIUM",
  COUPON = "COUPON",
  DEVICE = "DEVICE",
  PLATFORM = "PLATFORM",
  COUNTRY = "COUNTRY",
  CATEGORY = "CATEGORY",
  BRAND = "BRAND",
  MERCHANT = "MERCHANT",
}
registerEnumType(BreakdownDimension, {
  name: "BreakdownDimension",
  description:
    "What to group purchases by. CATEGORY, BRAND and MERCHANT are properties of the lines, so with any of them revenue and items count the matching lines only.",
});

/**
 * Where each dimension lives: order-level ones are columns of the sales source
 * (rolled up), line-level ones of `event_items i` (category and brand fall back
 * to the catalog), read from raw events.
 */
const COLUMNS: Record<BreakdownDimension, { expr: string; line: boolean }> = {
  CAMPAIGN: { expr: "campaign", line: false },
  SOURCE: { expr: "source", line: false },
  MEDIUM: { expr: "medium", line: false },
  COUPON: { expr: "coupon_code", line: false },
  DEVICE: { expr: "device_type", line: false },
  PLATFORM: { expr: "platform", line: false },
  COUNTRY: { expr: "country", line: false },
  CATEGORY: { expr: "COALESCE(i.item_category, p.category)", line: true },
  BRAND: { expr: "COALESCE(i.item_brand, p.brand)", line: true },
  MERCHANT: { expr: "i.merchant_id", line: true },
};

export interface BreakdownRow {
  /** The group's value of each dimension, in the order asked; null where the purchase carried none. */
  values: (string | null)[];
  /** Minor units of the base currency. */
  revenue: number;
  orders: number;
  items: number;
  /** Order discounts summed (line discounts x quantity when grouping by lines), minor units. */
  discount: number;
}

export interface BreakdownOptions {
  /** Narrows the purchases to those with a value of this order-level dimension (e.g. a coupon). */
  having?: BreakdownDimension;
  /** Groups purchases without a value under this label instead of null. */
  missingAs?: "unknown";
}

/** Purchases in the period grouped by `by`, revenue descending, then the dimension values ascending. */
export async function revenueBreakdown(
  scope: ReportScope,
  by: readonly BreakdownDimension[],
  limit: number | null,
  opts: BreakdownOptions = {},
): Promise<BreakdownRow[]> {
  const { having, missingAs } = opts;
  const line = by.some(d => COLUMNS[d].line);
  // Order-level columns come from the raw events joined to their lines, or else from the sales source.
  const column = (d: BreakdownDimension) =>
    COLUMNS[d].line ? COLUMNS[d].expr : `${line ? "e" : "s"}.${COLUMNS[d].expr}`;
  const keys = by.map((d, n) => raw(`${missingAs ? `COALESCE(${column(d)}, '${missingAs}')` : column(d)} AS d${n}`));
  const groups = raw(by.map((_, n) => `d${n}`).join(", "));
  const narrowed = having ? raw(` AND ${column(having)} IS NOT NULL`) : raw("");
  const query = line
    ? sql`SELECT ${joinSql(keys)}, COALESCE(SUM(i.price * i.quantity), 0) AS revenue, COUNT(DISTINCT e.id) AS orders,
          SUM(i.quantity) AS items, COALESCE(SUM(i.discount * i.quantity), 0) AS discount
        FROM ${creditedPurchases(scope.db, { from: raw("events e"), where: eventsIn(scope, ["PURCHASE"]) })} JOIN
        event_items i ON i.event_row_id = e.id
        LEFT JOIN products p ON p.appspace_id = i.appspace_id AND p.item_id = i.item_id
        WHERE 1 = 1${narrowed} GROUP BY ${groups}`
    : sql`SELECT ${joinSql(keys)}, COALESCE(SUM(s.revenue), 0) AS revenue, SUM(s.orders) AS orders,
          COALESCE(SUM(s.items), 0) AS items, COALESCE(SUM(s.discount), 0) AS discount
        FROM (${await salesSource(
          scope,
          [...by, ...(having ? [having] : [])].map(d => COLUMNS[d].expr as OrderDimension),
        )}) s WHERE 1 = 1${narrowed} GROUP BY ${groups}`;
  const ordered = sql`${query} ORDER BY revenue DESC, ${groups}${limit == null ? raw("") : sql` LIMIT ${limit}`}`;
  const rows = await queryRows(scope.db, ordered);
  return rows.map(r => ({
    values: by.map((_, n) => (r[`d${n}`] as string | null) ?? null),
    revenue: toNumber(r.revenue),
    orders: toNumber(r.orders),
    items: toNumber(r.items),
    discount: toNumber(r.discount),
  }));
}
