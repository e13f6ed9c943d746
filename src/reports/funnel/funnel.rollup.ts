import { insertRows } from "../../db/sql";
import { DayEvent } from "../../events/day-events";
import { DayRollup, DayWork, EventCollector, RefreshingDay } from "../../rollups/day-rollup";
import { deleteDayRows, deletePairsBefore, deleteRowsBefore } from "../../rollups/day-rows";
import { samePerson, storedSet } from "../../rollups/people-sets";
import { dayFunnelRows, updateFunnelPairs } from "./funnel-pairs";
import { FunnelDays, FunnelRow, FunnelSets } from "./funnel.service";

/*
 * The funnel's read model: per person (by number) and day, their moves through the funnel's steps
 * (rollup_funnel_people); per day, who moved from each step to each later one, as sets of people
 * (rollup_funnel_sets); and per pair of days what people moving over both add (rollup_funnel_pairs).
 */

/** Its tables keyed by day (its pairs are corrected by updateFunnelPairs, never deleted by day). */
const DAY_TABLES = ["rollup_funnel_people", "rollup_funnel_sets"];
const PEOPLE_COLUMNS = ["appspace_id", "person", "day", "moves", "moves_all"];
const SETS_COLUMNS = ["appspace_id", "day", "with_flagged", "from_step", "to_step", "people"];

export const funnelRollup: DayRollup = {
  name: "funnel",
  tables: ["rollup_funnel_people", "rollup_funnel_sets", "rollup_funnel_pairs"],

  async refreshDay(day) {
    const { db, appspaceId } = day;
    const before = await dayFunnelRows(db, appspaceId, day.day);
    await deleteDayRows(db, appspaceId, day.day, DAY_TABLES);
    return new FunnelDayWork(day, before);
  },

  async forget() {
    // Rows name people by number: the deletion's marks have the days recomputed, and their numbers forgotten.
  },

  async purgeBefore(db, appspaceId, oldestDay) {
    await deleteRowsBefore(db, appspaceId, oldestDay, DAY_TABLES);
    await deletePairsBefore(db, appspaceId, oldestDay, "rollup_funnel_pairs");
  },
};

/**
 * A day's funnel being recomputed: each part of its people gives their moves (rows of rollup_funnel_people, by
 * number); once every part is in, the day's sets of people per move, then the pairs from its rows before and after.
 */
class FunnelDayWork implements DayWork, EventCollector {
  readonly events = this;
  private readonly moves = new FunnelSets();
  private part: FunnelDays;

  constructor(
    private readonly day: RefreshingDay,
    private readonly before: readonly FunnelRow[],
  ) {
    this.part = new FunnelDays(samePerson(day.db));
  }

  add(page: readonly DayEvent[]): void {
    this.part.add(page);
  }

  async endPart(): Promise<void> {
    const { appspaceId, day } = this.day;
    const people = this.part.rows();
    this.part = new FunnelDays(samePerson(this.day.db));
    const numberOf = await this.day.numberPeople(people.map(p => p.person));
    this.moves.add(people, numberOf);
    const rows = people.map(p => [appspaceId, numberOf(p.person), day, p.moves, p.movesAll]);
    await insertRows(this.day.db, "rollup_funnel_people", PEOPLE_COLUMNS, rows);
  }

  async finish(): Promise<void> {
    const { db, appspaceId, day } = this.day;
    const sets = [...this.moves.sets.values()].map(m => [
      appspaceId,
      day,
      m.withFlagged,
      m.from,
      m.to,
      storedSet(m.people),
    ]);
    await insertRows(this.day.db, "rollup_funnel_sets", SETS_COLUMNS, sets);
    await updateFunnelPairs(db, appspaceId, day, this.before);
  }
}
