import { insertChunked, multiRowInsert, Row } from "../../db/sql";
import { DayEvent } from "../../events/day-events";
import { DayRollup, RefreshingDay } from "../../rollups/day-rollup";
import { samePerson, storedSet } from "../../rollups/people-sets";
import { dayFunnelRows, updateFunnelPairs } from "./funnel-pairs";
import { FunnelDays, FunnelSets } from "./funnel.service";

/*
 * The funnel's read model: per person (by number) and day, their moves through the funnel's steps
 * (rollup_funnel_people); per day, who moved from each step to each later one, as sets of people
 * (rollup_funnel_sets); and per pair of days what people moving over both add (rollup_funnel_pairs).
 */

const PEOPLE_COLUMNS = ["appspace_id", "person", "day", "moves", "moves_all"];
const SETS_COLUMNS = ["appspace_id", "day", "with_flagged", "from_step", "to_step", "people"];

export const funnelRollup: DayRollup = {
  name: "funnel",
  tables: ["rollup_funnel_people", "rollup_funnel_sets", "rollup_funnel_pairs"],

  async refreshDay(day) {
    const { db, appspaceId } = day;
    const before = await dayFunnelRows(db, appspaceId, day.day);
    for (const table of ["rollup_funnel_people", "rollup_funnel_sets"]) {
      await db.query(`DELETE FROM ${table} WHERE appspace_id = ? AND day = ?`, [appspaceId, day.day]);
    }
    const moves = new FunnelSets();
    let part = new FunnelDays(samePerson(db));
    return {
      events: {
        add: (page: readonly DayEvent[]) => part.add(page),
        endPart: async () => {
          const people = part.rows();
          part = new FunnelDays(samePerson(db));
          const numberOf = await day.numberPeople(people.map(p => p.person));
          moves.add(people, numberOf);
          await insertRows(day, "rollup_funnel_people", PEOPLE_COLUMNS,
            people.map(p => [appspaceId, numberOf(p.person), day.day, p.moves, p.movesAll]));
        },
      },
      finish: async () => {
        await insertRows(day, "rollup_funnel_sets", SETS_COLUMNS,
          [...moves.sets.values()].map(m => [appspaceId, day.day, m.withFlagged, m.from, m.to, storedSet(m.people)]));
        await updateFunnelPairs(db, appspaceId, day.day, before);
      },
    };
  },

  async forget() {
    // Rows name people by number: the deletion's marks have the days recomputed, and their numbers forgotten.
  },

  async purgeBefore(db, appspaceId, oldestDay) {
    for (const table of ["rollup_funnel_people", "rollup_funnel_sets"]) {
      await db.query(`DELETE FROM ${table} WHERE appspace_id = ? AND day < ?`, [appspaceId, oldestDay]);
    }
    await db.query("DELETE FROM rollup_funnel_pairs WHERE appspace_id = ? AND with_flagged IN (0, 1) AND day_from < ?", [appspaceId, oldestDay]);
  },
};

function insertRows({ db }: RefreshingDay, table: string, columns: readonly string[], rows: Row[]): Promise<void> {
  return insertChunked(db, r => multiRowInsert(table, columns, r), columns.length, rows);
}
