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
    runs AS (
      SELECT ev.id, ev.t, ev.at, ev.cart_id, ev.person,
        CASE WHEN ev.cart_id IS NULL THEN
          (SELECT p.id FROM ev p WHERE p.t = 'PURCHASE' AND p.person = ev.person AND p.at >= ev.at ORDER BY p.at, p.id LIMIT 1)
        END AS run_end
      FROM ev WHERE ev.t <> 'PURCHASE' AND (ev.cart_id IS NOT NULL OR ev.person IS NOT NULL)
    ),
    moves AS (
      SELECT runs.*, CASE WHEN cart_id IS NOT NULL THEN CONCAT('c:', cart_id) ELSE CONCAT('p:', COALESCE(run_end, 0), ':', COALESCE(person, '')) END AS cart_key
      FROM runs
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
      SELECT cart_key, MIN(cart_id) AS cart_id, MIN(run_end) AS run_end, MIN(person) AS person, MIN(at) AS first_at
      FROM moves WHERE t = 'ADD_TO_CART' GROUP BY cart_key
    ),
    outcomes AS (
      SELECT COALESCE(k.units, 0) AS units, COALESCE(k.value, 0) AS value,
        CASE WHEN c.run_end IS NOT NULL OR EXISTS (
          SELECT 1 FROM ev p WHERE c.cart_id IS NOT NULL AND p.t = 'PURCHASE' AND p.at >= c.first_at
            AND (p.cart_id = c.cart_id OR (p.cart_id IS NULL AND p.person = c.person))
        ) THEN 1 ELSE 0 END AS done
      FROM carts c LEFT JOIN contents k ON k.cart_key = c.cart_key
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
