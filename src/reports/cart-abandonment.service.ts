import { queryRows, raw, sql } from "../db/query";
import { Db, dbTime, isMysql, toNumber, withTransaction } from "../db/sql";
import { settingsOf } from "../appspaces/settings";
import { personOf } from "../identity/persons";
import { CartCounts, cartCounts } from "./cart-days";
import { daysOf } from "./range";
import { eventsIn, percent, ReportScope } from "./scope";
import { fromRollups, staleDaysOf } from "./sources";

export interface CartTotals {
  abandonedCarts: number;
  completedCarts: number;
  /** Minor units of the base currency. */
  abandonedValue: number;
  abandonmentRate: number;
  /** Not completed, not emptied, added to within the appspace's cartIdleMinutes before the range's end (or now). */
  openCarts: number;
}

/**
 * The moment before which a cart's last add must come for it to count as abandoned: the appspace's cartIdleMinutes
 * before the end of the range, or before now when the range ends later (today).
 */
export function idleCutoff(scope: ReportScope): Date {
  const end = Math.min(Date.parse(scope.period.to), (scope.now ?? new Date(scope.period.to)).getTime());
  return new Date(end - settingsOf(scope.appspace).cartIdleMinutes * 60_000);
}

/**
 * Carts started in the period. A cart is a cartId, or for add-to-cart events
 * without one, a person's run of adds up to their next purchase. It is completed
 * when a purchase follows within the period (for a cartId: one carrying that
 * cartId, or one without a cartId by the same person). An abandoned cart is worth
 * the units left after removals, each at the item's latest add-to-cart price; a
 * cart emptied by removals and never bought is no cart. A cart not completed whose last add came less than the
 * appspace's cartIdleMinutes before the end of the period (or now, if earlier) is open, not abandoned. From rollups, the days'
 * totals of rollup_cart_totals and the pairs of days of rollup_cart_pairs, and
 * where stale days cut the range, the few carts they change (cart-days.ts: cartCounts).
 */
export async function cartTotals(scope: ReportScope): Promise<CartTotals> {
  const cutoff = idleCutoff(scope);
  const { completed, abandoned, abandonedValue, open } = fromRollups(scope)
    ? await cartsFromRollups(scope, cutoff)
    : await cartsFromEvents(scope, cutoff);
  return { abandonedCarts: abandoned, completedCarts: completed, abandonedValue, abandonmentRate: percent(abandoned, abandoned + completed), openCarts: open };
}

/**
 * The period's carts from rollups: its stale days, then the rollups as of one moment: without stale days one statement
 * on MySQL, else one transaction (on SQLite's shared connection, a read outside the queue could see a refresh half done).
 */
async function cartsFromRollups(scope: ReportScope, cutoff: Date): Promise<CartCounts> {
  const stale = await staleDaysOf(scope);
  const counts = (db: Db) => cartCounts(db, scope.appspace.id, daysOf(scope.period), stale, scope.includeFlagged, cutoff.getTime());
  return stale.size === 0 && isMysql(scope.db) ? counts(scope.db) : withTransaction(scope.db, counts);
}

/** The period's carts from raw events, in one statement. */
async function cartsFromEvents(scope: ReportScope, cutoff: Date): Promise<CartCounts> {
  const { join, person } = personOf();
  const latest = isMysql(scope.db)
    ? {
      pack: raw("CONCAT(DATE_FORMAT(m.at, '%Y%m%d%H%i%s%f'), LPAD(m.id, 20, '0'), LPAD(i.line, 10, '0'), COALESCE(i.price, ''))"),
      price: raw("CAST(NULLIF(SUBSTRING(latest_add, 51), '') AS SIGNED)"), join: raw("STRAIGHT_JOIN"),
    }
    : {
      pack: raw("m.at || printf('%020d', m.id) || printf('%010d', i.line) || COALESCE(i.price, '')"),
      price: raw("CAST(NULLIF(substr(latest_add, 54), '') AS INTEGER)"), join: raw("CROSS JOIN"),
    };
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
        SUM(CASE WHEN t = 'PURCHASE' THEN 1 ELSE 0 END) OVER (PARTITION BY person) AS bought,
        -- Numbers for the person and the cartId, so that carts group on short keys.
        DENSE_RANK() OVER (ORDER BY person) AS person_key,
        DENSE_RANK() OVER (ORDER BY cart_id) AS cart_id_key
      FROM ev
    ),
    moves AS (
      SELECT id, t, at, cart_id, person,
        CASE WHEN cart_id IS NOT NULL THEN cart_id_key ELSE person_key END AS k1,
        CASE WHEN cart_id IS NOT NULL THEN -1 ELSE bought_before END AS k2,
        CASE WHEN cart_id IS NULL AND bought_before < bought THEN 1 ELSE 0 END AS run_ended
      FROM ordered WHERE t <> 'PURCHASE' AND (cart_id IS NOT NULL OR person IS NOT NULL)
    ),
    cart_lines AS (
      -- Units left of each item, and its latest add-to-cart price (the last line of the latest add): packed after
      -- fixed-width time, id and line, so MAX finds it.
      SELECT m.k1, m.k2, SUM(CASE WHEN m.t = 'ADD_TO_CART' THEN i.quantity ELSE -i.quantity END) AS units,
        MAX(CASE WHEN m.t = 'ADD_TO_CART' THEN ${latest.pack} END) AS latest_add
      FROM moves m ${latest.join} event_items i ON i.event_row_id = m.id
      GROUP BY m.k1, m.k2, i.item_id
    ),
    contents AS (
      SELECT k1, k2, SUM(CASE WHEN units > 0 THEN units ELSE 0 END) AS units,
        SUM(CASE WHEN units > 0 THEN units * COALESCE(${latest.price}, 0) ELSE 0 END) AS value
      FROM cart_lines GROUP BY k1, k2
    ),
    carts AS (
      SELECT k1, k2, MIN(cart_id) AS cart_id, MAX(run_ended) AS run_ended, MIN(person) AS person, MIN(at) AS first_at, MAX(at) AS last_add
      FROM moves WHERE t = 'ADD_TO_CART' GROUP BY k1, k2
    ),
    by_cart AS (SELECT cart_id, MAX(at) AS last_at FROM ev WHERE t = 'PURCHASE' AND cart_id IS NOT NULL GROUP BY cart_id),
    by_person AS (SELECT person, MAX(at) AS last_at FROM ev WHERE t = 'PURCHASE' AND cart_id IS NULL AND person IS NOT NULL GROUP BY person),
    outcomes AS (
      -- A cartId's cart is completed by a purchase at or after its first add carrying the cartId, or carrying none by the same person.
      SELECT COALESCE(k.units, 0) AS units, COALESCE(k.value, 0) AS value, CASE WHEN c.last_add >= ${dbTime(cutoff)} THEN 1 ELSE 0 END AS recent,
        CASE WHEN c.run_ended = 1 OR bc.last_at >= c.first_at OR bp.last_at >= c.first_at THEN 1 ELSE 0 END AS done
      FROM carts c LEFT JOIN contents k ON k.k1 = c.k1 AND k.k2 = c.k2
        LEFT JOIN by_cart bc ON bc.cart_id = c.cart_id
        LEFT JOIN by_person bp ON c.cart_id IS NOT NULL AND bp.person = c.person
    )
    SELECT COALESCE(SUM(done), 0) AS completed,
      COALESCE(SUM(CASE WHEN done = 0 AND units > 0 AND recent = 0 THEN 1 ELSE 0 END), 0) AS abandoned,
      COALESCE(SUM(CASE WHEN done = 0 AND units > 0 AND recent = 0 THEN value ELSE 0 END), 0) AS abandoned_value,
      COALESCE(SUM(CASE WHEN done = 0 AND units > 0 AND recent = 1 THEN 1 ELSE 0 END), 0) AS open
    FROM outcomes`);
  return { completed: toNumber(row.completed), abandoned: toNumber(row.abandoned), abandonedValue: toNumber(row.abandoned_value), open: toNumber(row.open) };
}
