import { queryRows, sql } from "../db/query";
import { toNumber } from "../db/sql";
import { personOf } from "../identity/persons";
import { eventsIn, percent, ReportScope } from "./scope";

export interface CartTotals {
  abandonedCarts: number;
  completedCarts: number;
  /** Minor units of the base currency. */
  abandonedValue: number;
  abandonmentRate: number;
}

/**
 * Carts started in the period. A cart is a cartId, or for add-to-cart events
 * without one, a person's run of adds up to their next purchase. It is completed
 * when a purchase follows within the period (for a cartId: one carrying that
 * cartId, or one without a cartId by the same person). An abandoned cart is worth
 * the units left after removals, each at the item's latest add-to-cart price; a
 * cart emptied by removals and never bought is no cart.
 */
export async function cartTotals(scope: ReportScope): Promise<CartTotals> {
  const { join, person } = personOf();
  const [row] = await queryRows(scope.db, sql`
    WITH ev AS (
      SELECT e.id, e.event_type AS t, e.occurred_at AS at, e.cart_id, ${person} AS person FROM events e ${join}
      WHERE ${eventsIn(scope, ["ADD_TO_CART", "REMOVE_FROM_CART", "PURCHASE"])}
    ),
    ordered AS (
      SELECT ev.*,
        -- Purchases so far in the person's order of (time, adds before a purchase of the same instant, id):
        -- an add without a cartId belongs to the run that the next purchase ends.
        SUM(CASE WHEN t = 'PURCHASE' THEN 1 ELSE 0 END) OVER (PARTITION BY person ORDER BY at, CASE WHEN t = 'PURCHASE' THEN 1 ELSE 0 END, id
          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS bought_before,
        SUM(CASE WHEN t = 'PURCHASE' THEN 1 ELSE 0 END) OVER (PARTITION BY person) AS bought
      FROM ev
    ),
    moves AS (
      SELECT id, t, at, cart_id, person, CASE WHEN cart_id IS NOT NULL THEN CONCAT('c:', cart_id)
          ELSE CONCAT('p:', bought_before, ':', COALESCE(person, '')) END AS cart_key,
        CASE WHEN cart_id IS NULL AND bought_before < bought THEN 1 ELSE 0 END AS run_ended
      FROM ordered WHERE t <> 'PURCHASE' AND (cart_id IS NOT NULL OR person IS NOT NULL)
    ),
    priced AS (
      SELECT m.cart_key, m.t, i.item_id, i.quantity,
        FIRST_VALUE(i.price) OVER (PARTITION BY m.cart_key, i.item_id
          ORDER BY CASE WHEN m.t = 'ADD_TO_CART' THEN 0 ELSE 1 END, m.at DESC, m.id DESC) AS unit_price
      FROM moves m JOIN event_items i ON i.event_row_id = m.id
    ),
    cart_lines AS (
      SELECT cart_key, SUM(CASE WHEN t = 'ADD_TO_CART' THEN quantity ELSE -quantity END) AS units, MAX(unit_price) AS unit_price
      FROM priced GROUP BY cart_key, item_id
    ),
    contents AS (
      SELECT cart_key, SUM(CASE WHEN units > 0 THEN units ELSE 0 END) AS units,
        SUM(CASE WHEN units > 0 THEN units * COALESCE(unit_price, 0) ELSE 0 END) AS value
      FROM cart_lines GROUP BY cart_key
    ),
    carts AS (
      SELECT cart_key, MIN(cart_id) AS cart_id, MAX(run_ended) AS run_ended, MIN(person) AS person, MIN(at) AS first_at
      FROM moves WHERE t = 'ADD_TO_CART' GROUP BY cart_key
    ),
    by_cart AS (SELECT cart_id, MAX(at) AS last_at FROM ev WHERE t = 'PURCHASE' AND cart_id IS NOT NULL GROUP BY cart_id),
    by_person AS (SELECT person, MAX(at) AS last_at FROM ev WHERE t = 'PURCHASE' AND cart_id IS NULL AND person IS NOT NULL GROUP BY person),
    outcomes AS (
      -- A cartId's cart is completed by a purchase at or after its first add carrying the cartId, or carrying none by the same person.
      SELECT COALESCE(k.units, 0) AS units, COALESCE(k.value, 0) AS value,
        CASE WHEN c.run_ended = 1 OR bc.last_at >= c.first_at OR bp.last_at >= c.first_at THEN 1 ELSE 0 END AS done
      FROM carts c LEFT JOIN contents k ON k.cart_key = c.cart_key
        LEFT JOIN by_cart bc ON bc.cart_id = c.cart_id
        LEFT JOIN by_person bp ON c.cart_id IS NOT NULL AND bp.person = c.person
    )
    SELECT COALESCE(SUM(done), 0) AS completed,
      COALESCE(SUM(CASE WHEN done = 0 AND units > 0 THEN 1 ELSE 0 END), 0) AS abandoned,
      COALESCE(SUM(CASE WHEN done = 0 AND units > 0 THEN value ELSE 0 END), 0) AS abandoned_value
    FROM outcomes`);
  const abandonedCarts = toNumber(row.abandoned);
  const completedCarts = toNumber(row.completed);
  return {
    abandonedCarts,
    completedCarts,
    abandonedValue: toNumber(row.abandoned_value),
    abandonmentRate: percent(abandonedCarts, abandonedCarts + completedCarts),
  };
}
