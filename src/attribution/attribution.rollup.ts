import { EntityManager } from "typeorm";
import { inList, queryRows, raw, sql } from "../db/query";
import { insertRows, multiRowInsert } from "../db/sql";
import { addDays } from "../days";
import { DayEvent } from "../events/day-events";
import { DayRollup } from "../rollups/day-rollup";
import { deleteDayRows, deleteRowsBefore } from "../rollups/day-rows";
import { isMarked } from "../rollups/marks";
import { daysWithSales } from "../reports/sales/sales.rollup";
import { attributionDayRows, WINDOWS } from "./attribution.service";
import { DayTouches } from "./touches";

/*
 * Attribution's read model: per person and day, their touches (rollup_touches); per day, the credits of the day's
 * purchases for every model and window (rollup_attribution). Credits read the touches of up to 90 days before, so
 * they are computed after those days are refreshed: a refreshed day marks, in rollup_attribution_dirty, itself and
 * the later days whose purchases may read its touches, and the refresher computes those days last (followUp).
 */

/** Days before a purchase its credits read touches of: the longest attribution window. */
const ATTRIBUTION_DAYS = Math.max(...WINDOWS);

const TOUCH_COLUMNS = ["appspace_id", "person", "day", "touches"];
const CREDIT_COLUMNS = [
  "appspace_id",
  "day",
  "with_flagged",
  "seq",
  "model",
  "window_days",
  "campaign",
  "source",
  "medium",
  "revenue",
  "orders",
];

export const attributionRollup: DayRollup = {
  name: "attribution",
  tables: ["rollup_touches", "rollup_attribution", "rollup_attribution_dirty"],

  async refreshDay({ db, appspaceId, day }) {
    await deleteDayRows(db, appspaceId, day, ["rollup_touches"]);
    let part = new DayTouches();
    return {
      events: {
        add: (page: readonly DayEvent[]) => part.add(page),
        endPart: async () => {
          const rows = part.rows().map(([person, touches]) => [appspaceId, person, day, touches]);
          part = new DayTouches();
          await insertRows(db, "rollup_touches", TOUCH_COLUMNS, rows);
        },
      },
      // Of the days after it, those with purchases rolled up (today's refresh would otherwise mark 90 days to come):
      // a day whose purchases are not, or no longer, is stale, and its own refresh marks it.
      finish: async () => {
        const later = await daysWithSales(db, appspaceId, day, addDays(day, ATTRIBUTION_DAYS));
        const marks = [day, ...later].map(d => [appspaceId, d]);
        await db.query(...multiRowInsert("rollup_attribution_dirty", ["appspace_id", "day"], marks));
      },
    };
  },

  async forget(db, appspaceId, people, days) {
    const chosenDays = days === null ? raw("") : sql` AND day IN (${inList(days)})`;
    await queryRows(
      db,
      sql`DELETE FROM rollup_touches
      WHERE appspace_id = ${appspaceId} AND person IN (${inList(people)})${chosenDays}`,
    );
  },

  async purgeBefore(db, appspaceId, oldestDay) {
    await deleteRowsBefore(db, appspaceId, oldestDay, ["rollup_touches"]);
    await queryRows(
      db,
      sql`DELETE FROM rollup_attribution
      WHERE appspace_id = ${appspaceId} AND with_flagged IN (0, 1) AND day < ${oldestDay}`,
    );
  },

  followUp: { log: "rollup_attribution_dirty", refreshDay: refreshCredits },
};

/**
 * Takes the marks of the day, then computes its credits from its purchases and their people's touches in
 * rollup_touches. While a day whose touches they read is stale, reports do not read them, and that day's refresh marks
 * this one again: they are left out until then.
 */
async function refreshCredits(db: EntityManager, appspaceId: number, day: string): Promise<void> {
  await queryRows(db, sql`DELETE FROM rollup_attribution_dirty WHERE appspace_id = ${appspaceId} AND day = ${day}`);
  // Both variants named: the key is (appspace_id, with_flagged, day, seq).
  await queryRows(
    db,
    sql`DELETE FROM rollup_attribution
    WHERE appspace_id = ${appspaceId} AND with_flagged IN (0, 1) AND day = ${day}`,
  );
  if (await isMarked(db, appspaceId, addDays(day, -ATTRIBUTION_DAYS), day)) return;
  const rows = (await attributionDayRows(db, appspaceId, day)).map(r => [appspaceId, day, ...r]);
  await insertRows(db, "rollup_attribution", CREDIT_COLUMNS, rows);
}
