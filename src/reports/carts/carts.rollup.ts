import { EntityManager } from "typeorm";
import { insertRows } from "../../db/sql";
import { DayEvent } from "../../events/day-events";
import { DayRollup, DayWork, EventCollector } from "../../rollups/day-rollup";
import { deleteDayRows, deletePairsBefore, deleteRowsBefore } from "../../rollups/day-rows";
import { samePerson } from "../../rollups/people-sets";
import { CART_ROW_COLUMNS, cartDayRows, CartDays, CartDayTotals, CartRow } from "./cart-days";
import { dayCartRows, updateCartPairs } from "./cart-pairs";

/*
 * The carts' read model: per day, the cart events of each person and cartId (rollup_carts), the outcomes of the
 * day's carts taken alone with its sets (rollup_cart_totals), and per pair of days what carts spanning both add
 * (rollup_cart_pairs). Each row holds both variants: flagged events left out, and counted.
 */

/** Its tables keyed by day (its pairs are corrected by updateCartPairs, never deleted by day). */
const DAY_TABLES = ["rollup_carts", "rollup_cart_totals"];
const CART_COLUMNS = ["appspace_id", "day", ...CART_ROW_COLUMNS];
const TOTALS_COLUMNS = [
  ...["appspace_id", "day", "with_flagged", "completed", "abandoned", "abandoned_value"],
  ...["entities", "dangling", "cart_people", "plain_buyers"],
];

export const cartsRollup: DayRollup = {
  name: "carts",
  tables: ["rollup_carts", "rollup_cart_totals", "rollup_cart_pairs"],

  async refreshDay({ db, appspaceId, day }) {
    const before = await dayCartRows(db, appspaceId, day);
    await deleteDayRows(db, appspaceId, day, DAY_TABLES);
    return new CartDayWork(db, appspaceId, day, before);
  },

  /** Every cart of those days goes (a cart's events name its person), with what they add to the pairs. */
  async forget(db, appspaceId, _people, days) {
    for (const day of days ?? []) {
      const before = await dayCartRows(db, appspaceId, day);
      await deleteDayRows(db, appspaceId, day, DAY_TABLES);
      await updateCartPairs(db, appspaceId, day, before);
    }
  },

  async purgeBefore(db, appspaceId, oldestDay) {
    await deleteRowsBefore(db, appspaceId, oldestDay, DAY_TABLES);
    await deletePairsBefore(db, appspaceId, oldestDay, "rollup_cart_pairs");
  },
};

/**
 * A day's carts being recomputed: its events come a part at a time (rows of rollup_carts per part); its totals, per
 * variant, once every part is in; then the pairs, from the day's rows before and after.
 */
class CartDayWork implements DayWork, EventCollector {
  readonly events = this;
  /** Per variant (without flagged events, with them). */
  private readonly totals = [new CartDayTotals(), new CartDayTotals()];
  private part: CartDays[];

  constructor(
    private readonly db: EntityManager,
    private readonly appspaceId: number,
    private readonly day: string,
    private readonly before: readonly CartRow[],
  ) {
    this.part = this.newPart();
  }

  add(page: readonly DayEvent[]): void {
    this.part.forEach(c => c.add(page));
  }

  async endPart(): Promise<void> {
    const [clean, all] = this.part.map(c => c.days.get(this.day));
    this.part = this.newPart();
    this.totals[0].add(clean);
    this.totals[1].add(all);
    const rows = cartDayRows(clean, all).map(c => [this.appspaceId, this.day, ...c]);
    await insertRows(this.db, "rollup_carts", CART_COLUMNS, rows);
  }

  async finish(): Promise<void> {
    const rows = this.totals.flatMap((t, withFlagged) => {
      const columns = t.columns();
      return columns ? [[this.appspaceId, this.day, withFlagged, ...columns]] : [];
    });
    await insertRows(this.db, "rollup_cart_totals", TOTALS_COLUMNS, rows);
    await updateCartPairs(this.db, this.appspaceId, this.day, this.before);
  }

  private newPart(): CartDays[] {
    return [new CartDays(false, samePerson(this.db)), new CartDays(true, samePerson(this.db))];
  }
}
