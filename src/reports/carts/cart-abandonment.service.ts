import { Db, isMysql, withTransaction } from "../../db/sql";
import { settingsOf } from "../../appspaces/settings";
import { eachDayEvents } from "../../events/day-events";
import { samePerson } from "../../rollups/people-sets";
import { CART_TYPES, cartCounts, CartCounts, CartDays, emptyDay, foldCarts } from "./cart-days";
import { daysOf } from "../../days";
import { fromRollups, percent, ReportScope, staleDaysOf } from "../scope";

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
 * The period's carts, as cart-days.ts defines them: completed, abandoned (open and idle for the appspace's
 * cartIdleMinutes at the end of the period, or now if earlier), their value, and those still open. From rollups, the
 * days' totals of rollup_cart_totals and the pairs of days of rollup_cart_pairs, and where stale days or the idle
 * cutoff cut the range, the few carts they change (cartCounts).
 */
export async function cartTotals(scope: ReportScope): Promise<CartTotals> {
  const cutoff = idleCutoff(scope);
  const { completed, abandoned, abandonedValue, open } = fromRollups(scope)
    ? await cartsFromRollups(scope, cutoff)
    : await cartsFromEvents(scope, cutoff);
  return {
    abandonedCarts: abandoned,
    completedCarts: completed,
    abandonedValue,
    abandonmentRate: percent(abandoned, abandoned + completed),
    openCarts: open,
  };
}

/**
 * The period's carts from rollups: its stale days, then the rollups as of one moment: without stale days one statement
 * on MySQL, else one transaction (on SQLite's shared connection, a read outside the queue could see a refresh half
 * done).
 */
async function cartsFromRollups(scope: ReportScope, cutoff: Date): Promise<CartCounts> {
  const stale = await staleDaysOf(scope);
  const counts = (db: Db) =>
    cartCounts(db, scope.appspace.id, daysOf(scope.period), stale, scope.includeFlagged, cutoff.getTime());
  return stale.size === 0 && isMysql(scope.db) ? counts(scope.db) : withTransaction(scope.db, counts);
}

/** The period's carts from raw events: every cart event of the range, folded in time order. */
async function cartsFromEvents(scope: ReportScope, cutoff: Date): Promise<CartCounts> {
  const days = daysOf(scope.period);
  const events = new CartDays(scope.includeFlagged, samePerson(scope.db));
  await eachDayEvents(scope.db, scope.appspace.id, days, CART_TYPES, page => events.add(page));
  return foldCarts(
    days.map(d => events.days.get(d) ?? emptyDay()),
    cutoff.getTime(),
  );
}
