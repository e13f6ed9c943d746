import { queryRows, raw, Sql, sql } from "../../db/query";
import { dayOf, dialectOf } from "../../db/dialect";
import { Db, insertRows, toNumber } from "../../db/sql";
import { periodOf } from "../../days";
import { flaggedOf, notFlagged, personOf, RawSelection, someone } from "../../events/event-sql";
import { DayRollup } from "../../rollups/day-rollup";
import { deleteDayRows, deleteRowsBefore } from "../../rollups/day-rows";
import { emptySet, peopleNumbers, PeopleSet, setOf, storedSet } from "../../rollups/people-sets";
import { fromRollups, ReportScope, staleDaysOf } from "../scope";
import { creditedPurchases, staleEvents } from "../sales/sources";

/*
 * Channel reach, for revenueByChannel's people and conversion: per day, flagged and campaign/source/medium, the set
 * of people who met the channel and the set of those with a purchase credited to it (rollup_reach_sets, sets of
 * people's numbers: people-sets.ts), so that a range unites its days' sets instead of reading a row per person.
 */

const REACH_COLUMNS = ["appspace_id", "day", "flagged", "seq", "campaign", "source", "medium", "people", "buyers"];

export const channelsRollup: DayRollup = {
  name: "channels",
  tables: ["rollup_reach_sets"],

  async refreshDay({ db, appspaceId, day, numberPeople }) {
    await deleteDayRows(db, appspaceId, day, ["rollup_reach_sets"]);
    const { from, to } = periodOf(day, day);
    const everyEvent = {
      from: raw("events e"),
      where: sql`e.appspace_id = ${appspaceId} AND e.occurred_at >= ${from} AND e.occurred_at < ${to}`,
    };
    const reach = await queryRows<ReachRow>(
      db,
      sql`SELECT flagged, campaign, source, medium, person, reached, bought
      FROM (${reachRows(db, everyEvent)}) s`,
    );
    const rows = reachSets(reach, await numberPeople(reach.map(r => r.person))).map((r, seq) => [
      appspaceId,
      day,
      r.flagged,
      seq + 1,
      r.campaign,
      r.source,
      r.medium,
      storedSet(r.people),
      storedSet(r.buyers),
    ]);
    await insertRows(db, "rollup_reach_sets", REACH_COLUMNS, rows);
    return {};
  },

  async forget() {
    // Sets hold numbers, not people: the deletion's marks have the days recomputed, and their numbers forgotten.
  },

  async purgeBefore(db, appspaceId, oldestDay) {
    await deleteRowsBefore(db, appspaceId, oldestDay, ["rollup_reach_sets"]);
  },
};

/**
 * Who met each campaign/source/medium, and who bought through it: one row per day, flagged, channel and person, with
 * reached 1 when the person has events (any type) carrying it, and bought 1 when they have a purchase credited to it
 * (creditedPurchases: its own channel, or the one they came through in the 24 hours before). Events of no person are
 * left out: they reach nobody.
 */
function reachRows(db: Db, { from, where }: RawSelection): Sql {
  const { join, person } = personOf();
  const purchases = creditedPurchases(db, {
    from,
    where: sql`${where} AND e.event_type = 'PURCHASE' AND ${someone("e")}`,
  });
  return sql`SELECT day, flagged, campaign, source, medium, person, MAX(reached) AS reached, MAX(bought) AS bought FROM
    (
      SELECT ${dayOf(db, "e.occurred_at")} AS day, ${flaggedOf("e")} AS flagged, e.campaign, e.source, e.medium,
      ${person} AS person, 1 AS reached, 0 AS bought
        FROM ${from} ${join} WHERE ${where} AND ${someone("e")}
      UNION ALL
      SELECT ${dayOf(db, "e.occurred_at")}, ${flaggedOf("e")}, e.campaign, e.source, e.medium, ${person}, 0, 1 FROM
      ${purchases} ${join}
    ) r GROUP BY day, flagged, campaign, source, medium, person`;
}

/** A row of reachRows. */
interface ReachRow {
  flagged: unknown;
  campaign: string | null;
  source: string | null;
  medium: string | null;
  person: string;
  reached: unknown;
  bought: unknown;
}

interface ReachSet {
  flagged: number;
  campaign: string | null;
  source: string | null;
  medium: string | null;
  people: PeopleSet;
  buyers: PeopleSet;
}

/**
 * reachRows as sets of people, per flagged and channel (the groups the database made): who met it, who bought through
 * it.
 */
function reachSets(rows: readonly ReachRow[], numberOf: (person: string) => number): ReachSet[] {
  const groups = new Map<string, ReachSet>();
  for (const r of rows) {
    const flagged = toNumber(r.flagged);
    const key = JSON.stringify([flagged, r.campaign, r.source, r.medium]);
    let group = groups.get(key);
    if (!group)
      groups.set(
        key,
        (group = {
          flagged,
          campaign: r.campaign,
          source: r.source,
          medium: r.medium,
          people: emptySet(),
          buyers: emptySet(),
        }),
      );
    if (toNumber(r.reached) === 1) group.people.add(numberOf(r.person));
    if (toNumber(r.bought) === 1) group.buyers.add(numberOf(r.person));
  }
  return [...groups.values()];
}

export interface ChannelReach {
  /** People with any event carrying the channel in the period, and those of them with a purchase credited to it. */
  people: number;
  buyers: number;
}

/**
 * For each campaign/source/medium: how many people met it in the period, and how many of them bought through it (a
 * purchase credited to it: reachRows), looked up by the channel's values, which are told apart the way the database
 * compares text: MariaDB's utf8mb4_bin ignores trailing spaces, SQLite's BINARY does not. From rollups, the clean days'
 * sets of rollup_reach_sets and the stale days' computed from events, united per channel.
 */
export async function channelReach(
  scope: ReportScope,
): Promise<(channel: readonly (string | null)[]) => ChannelReach | undefined> {
  const same = (v: string | null) => (v === null ? null : dialectOf(scope.db).compared(v));
  const keyOf = (channel: readonly (string | null)[]) => JSON.stringify(channel.map(same));
  const met = new Map<string, { people: PeopleSet; buyers: PeopleSet }>();
  const setsOf = (channel: readonly (string | null)[]) => {
    const key = keyOf(channel);
    let sets = met.get(key);
    if (!sets) met.set(key, (sets = { people: emptySet(), buyers: emptySet() }));
    return sets;
  };
  const stale = fromRollups(scope) ? await staleDaysOf(scope) : null;
  if (stale !== null) {
    const stored = await queryRows<{
      day: string;
      campaign: string | null;
      source: string | null;
      medium: string | null;
      people: Buffer;
      buyers: Buffer;
    }>(
      scope.db,
      sql`
      SELECT day, campaign, source, medium, people, buyers FROM rollup_reach_sets
      WHERE appspace_id = ${scope.appspace.id} AND day >= ${scope.period.start} AND day <=
      ${scope.period.end}${raw(scope.includeFlagged ? "" : " AND flagged = 0")}`,
    );
    for (const r of stored) {
      if (stale.has(r.day)) continue;
      const sets = setsOf([r.campaign, r.source, r.medium]);
      sets.people.orInPlace(setOf(r.people));
      sets.buyers.orInPlace(setOf(r.buyers));
    }
  }
  // Without rollups, every day is read from events; with them, the stale days.
  const selection =
    stale === null
      ? {
          from: raw("events e"),
          where: sql`e.appspace_id = ${scope.appspace.id} AND e.occurred_at >= ${scope.period.from} AND e.occurred_at <
            ${scope.period.to}${notFlagged(scope.includeFlagged)}`,
        }
      : stale.size
        ? staleEvents(scope, null, "e", [...stale].sort())
        : null;
  const fresh = selection ? await queryRows<ReachRow>(scope.db, reachRows(scope.db, selection)) : [];
  for (const set of reachSets(
    fresh,
    await peopleNumbers(
      scope.db,
      scope.appspace.id,
      fresh.map(r => r.person),
    ),
  )) {
    const sets = setsOf([set.campaign, set.source, set.medium]);
    sets.people.orInPlace(set.people);
    sets.buyers.orInPlace(set.buyers);
  }
  // Buyers who met the channel in the period: one credited through a visit the day before it began is not among them.
  const reach = new Map(
    [...met].map(([key, sets]) => [key, { people: sets.people.size, buyers: sets.people.andCardinality(sets.buyers) }]),
  );
  return channel => reach.get(keyOf(channel));
}
