import { joinSql, queryRows, sql } from "../../db/query";
import { compareText, toNumber } from "../../db/sql";
import { ReportScope } from "../scope";
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

/**
 * Best sellers by revenue, then name (the itemId for an item the catalog does not name), then itemId. Summed per item
 * first; the catalog is read for the items that can make the list only (those selling at least as much as the
 * `limit`-th), not for every item sold.
 */
export async function topProducts(scope: ReportScope, limit: number): Promise<ProductSales[]> {
  const sums = (
    await queryRows(
      scope.db,
      sql`
    SELECT item_id, SUM(revenue) AS revenue, SUM(quantity) AS quantity, SUM(orders) AS orders
    FROM (${await productSource(scope)}) d GROUP BY item_id`,
    )
  )
    .map(r => ({
      itemId: r.item_id as string,
      itemName: null as string | null,
      revenue: toNumber(r.revenue),
      quantity: toNumber(r.quantity),
      orders: toNumber(r.orders),
    }))
    .sort((a, b) => b.revenue - a.revenue);
  const candidates = sums.length > limit ? sums.filter(s => s.revenue >= sums[limit - 1].revenue) : sums;
  if (candidates.length === 0) return [];
  // (Many items may tie: 1,000 at a time stays within SQLite's bound values.)
  const nameOf = new Map<string, string | null>();
  for (let i = 0; i < candidates.length; i += 1000) {
    const names = await queryRows<{ item_id: string; name: string | null }>(
      scope.db,
      sql`SELECT item_id, name FROM products
      WHERE appspace_id = ${scope.appspace.id} AND item_id IN
      (${joinSql(candidates.slice(i, i + 1000).map(c => sql`${c.itemId}`))})`,
    );
    for (const n of names) nameOf.set(n.item_id, n.name);
  }
  for (const c of candidates) c.itemName = nameOf.get(c.itemId) ?? null;
  return candidates
    .sort(
      (a, b) =>
        b.revenue - a.revenue ||
        compareText(a.itemName ?? a.itemId, b.itemName ?? b.itemId) ||
        compareText(a.itemId, b.itemId),
    )
    .slice(0, limit);
}
