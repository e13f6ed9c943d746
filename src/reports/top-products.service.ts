import { queryRows, sql } from "../db/query";
import { toNumber } from "../db/sql";
import { ReportScope } from "./scope";
import { productSource } from "./sources";

export interface ProductSales {
  itemId: string;
  /** The catalog's latest name for the item. */
  itemName: string | null;
  /** Minor units of the base currency: unit price x quantity over the purchased lines. */
  revenue: number;
  quantity: number;
  orders: number;
}

/** Best sellers by revenue, then name, then itemId. */
export async function topProducts(scope: ReportScope, limit: number): Promise<ProductSales[]> {
  // Summed per item first, so the catalog is looked up once per item rather than once per item and day.
  const rows = await queryRows(scope.db, sql`
    SELECT s.item_id, p.name, s.revenue, s.quantity, s.orders
    FROM (SELECT item_id, SUM(revenue) AS revenue, SUM(quantity) AS quantity, SUM(orders) AS orders
      FROM (${await productSource(scope)}) d GROUP BY item_id) s
    LEFT JOIN products p ON p.appspace_id = ${scope.appspace.id} AND p.item_id = s.item_id
    ORDER BY s.revenue DESC, COALESCE(p.name, s.item_id), s.item_id
    LIMIT ${limit}`);
  return rows.map(r => ({
    itemId: r.item_id as string,
    itemName: (r.name as string | null) ?? null,
    revenue: toNumber(r.revenue),
    quantity: toNumber(r.quantity),
    orders: toNumber(r.orders),
  }));
}
