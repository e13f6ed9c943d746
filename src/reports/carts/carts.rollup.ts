import { EntityManager } from "typeorm";
import { insertChunked, multiRowInsert, Row } from "../../db/sql";
import { DayEvent } from "../../events/day-events";
import { DayRollup } from "../../rollups/day-rollup";
import { samePerson } from "../../rollups/people-sets";
import { dayCartRows, updateCartPairs } from "./cart-pairs";
import { CART_ROW_COLUMNS, cartDayRows, CartDays, CartDayTotals } from "./cart-days";

/*
 * The carts' read model: per day, the cart events of each person and cartId (rollup_carts), the outcomes of the
 * day's carts taken alone with its sets (rollup_cart_totals), and per pair of days what carts spanning both add
 * (rollup_cart_pairs). Each row holds both variants: flagged events left out, and counted.
 */

const TOTALS_COLUMNS = ["appspace_id", "day", "with_flagged", "completed", "abandoned", "abandoned_value", "entities", "dangling",
  "cart_people", "plain_buyers"];

export const cartsRollup: DayRollup = {
  name: "carts",
  tables: ["rollup_carts", "rollup_cart_totals", "rollup_cart_pairs"],

  async refreshDay({ db, appspaceId, day }) {
    const before = await dayCartRows(db, appspaceId, day);
    await deleteDays(db, appspaceId, [day]);
    // Per variant (without flagged events, with them): the day's totals, fed part by part.
    const totals = [new CartDayTotals(), new CartDayTotals()];
    const newPart = () => [new CartDays(false, samePerson(db)), new CartDays(true, samePerson(db))];
    let part = newPart();
    return {
      events: {
        add: (page: readonly DayEvent[]) => part.forEach(c => c.add(page)),
        endPart: async () => {
          const [clean, all] = part.map(c => c.days.get(day));
          part = newPart();
          totals[0].add(clean);
          totals[1].add(all);
          await insertRows(db, "rollup_carts", ["appspace_id", "day", ...CART_ROW_COLUMNS], cartDayRows(clean, all).map(c => [appspaceId, day, ...c]));
        },
      },
      finish: async () => {
        const rows = totals.flatMap((t, withFlagged) => {
          const columns = t.columns();
          return columns ? [[appspaceId, day, withFlagged, ...columns]] : [];
        });
        await insertRows(db, "rollup_cart_totals", TOTALS_COLUMNS, rows);
        await updateCartPairs(db, appspaceId, day, before);
      },
    };
  },

  /** Every cart of those days goes (a cart's events name its person), with what they add to the pairs. */
  async forget(db, appspaceId, _people, days) {
    for (const day of days ?? []) {
      const before = await dayCartRows(db, appspaceId, day);
      await deleteDays(db, appspaceId, [day]);
      await updateCartPairs(db, appspaceId, day, before);
    }
  },

  async purgeBefore(db, appspaceId, oldestDay) {
    for (const table of ["rollup_carts", "rollup_cart_totals"]) {
      await db.query(`DELETE FROM ${table} WHERE appspace_id = ? AND day < ?`, [appspaceId, oldestDay]);
    }
    await db.query("DELETE FROM rollup_cart_pairs WHERE appspace_id = ? AND with_flagged IN (0, 1) AND day_from < ?", [appspaceId, oldestDay]);
  },
};

/** Deletes the days' rows of rollup_carts and rollup_cart_totals (not their pairs: updateCartPairs corrects those). */
async function deleteDays(db: EntityManager, appspaceId: number, days: readonly string[]): Promise<void> {
  for (const day of days) {
    await db.query("DELETE FROM rollup_carts WHERE appspace_id = ? AND day = ?", [appspaceId, day]);
    await db.query("DELETE FROM rollup_cart_totals WHERE appspace_id = ? AND day = ?", [appspaceId, day]);
  }
}

function insertRows(db: EntityManager, table: string, columns: readonly string[], rows: Row[]): Promise<void> {
  return insertChunked(db, r => multiRowInsert(table, columns, r), columns.length, rows);
}
