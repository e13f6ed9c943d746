import { queryRows, sql } from "../db/query";
import { toNumber } from "../db/sql";
import { eventsIn, ReportScope } from "./scope";

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
  const rows = await queryRows(scope.db, sql`
    SELECT i.item_id, p.name, COALESCE(SUM(i.price * i.quantity), 0) AS revenue, SUM(i.quantity) AS quantity, COUNT(DISTINCT e.id) AS orders
    FROM events e JOIN event_items i ON i.event_row_id = e.id
    LEFT JOIN products p ON p.appspace_id = i.appspace_id AND p.item_id = i.item_id
    WHERE ${eventsIn(scope, ["PURCHASE"])}
    GROUP BY i.item_id, p.name
    ORDER BY revenue DESC, COALESCE(p.name, i.item_id), i.item_id
    LIMIT ${limit}`);
  return rows.map(r => ({
    itemId: r.item_id as string,
    itemName: (r.name as string | null) ?? null,
    revenue: toNumber(r.revenue),
    quantity: toNumber(r.quantity),
    orders: toNumber(r.orders),
  }));
}
