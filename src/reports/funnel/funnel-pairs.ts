import { EntityManager } from "typeorm";
import { queryRows, sql } from "../../db/query";
import { Db, toNumber } from "../../db/sql";
import { PairDeltas } from "../../rollups/pairs";
import { countReached, FUNNEL_TYPES, FunnelRow, NO_MOVES, peopleFunnelRows, stepAfterDay } from "./funnel.service";

/*
 * The funnel per pair of days (rollup_funnel_pairs, the day alone on the diagonal; pairs.ts), so that a range of clean
 * days sums its pairs instead of moving sets of people day after day. A group is a person: their moves over a day
 * (rollup_funnel_people, by number: funnel.service.ts, movesOf) take them from the step they wait for at its start to
 * the one they wait for at its end, and F(i..j)[n] is 1 when the days i to j take them past step n.
 */

export const dayFunnelRows = (db: Db, appspaceId: number, day: string) =>
  queryRows<FunnelRow>(
    db,
    sql`SELECT person, day, moves, moves_all FROM rollup_funnel_people WHERE appspace_id = ${appspaceId} AND day =
      ${day}`,
  );

/**
 * Brings rollup_funnel_pairs in line with a day's rows of rollup_funnel_people, just replaced (in the caller's
 * transaction): `before` were its rows, the table holds the new ones. For each person whose row changed, the pairs
 * around the day (and the day itself) go from what the old rows made of them to what the new ones make.
 */
export async function updateFunnelPairs(
  db: EntityManager,
  appspaceId: number,
  day: string,
  before: readonly FunnelRow[],
): Promise<void> {
  const after = await dayFunnelRows(db, appspaceId, day);
  const byPerson = new Map<number, { others: FunnelRow[]; before?: FunnelRow; after?: FunnelRow }>();
  const of = (r: FunnelRow) => {
    let p = byPerson.get(toNumber(r.person));
    if (!p) byPerson.set(toNumber(r.person), (p = { others: [] }));
    return p;
  };
  for (const r of before) of(r).before = r;
  for (const r of after) of(r).after = r;
  // A person whose moves of the day did not change changes no pair.
  for (const [person, { before: old, after: now }] of byPerson) {
    if (old && now && old.moves === now.moves && old.moves_all === now.moves_all) byPerson.delete(person);
  }
  for (const r of await peopleFunnelRows(db, appspaceId, [...byPerson.keys()], sql` AND r.day <> ${day}`))
    byPerson.get(toNumber(r.person))!.others.push(r);

  const deltas = new PairDeltas(FUNNEL_TYPES.length);
  for (const { others, before: old, after: now } of byPerson.values()) {
    for (const withFlagged of [false, true]) {
      addPairs(deltas, withFlagged, day, now ? [...others, now] : others, 1);
      addPairs(deltas, withFlagged, day, old ? [...others, old] : others, -1);
    }
  }
  await deltas.write(
    db,
    "rollup_funnel_pairs",
    FUNNEL_TYPES.map((_, n) => `reached${n}`),
    appspaceId,
  );
}

/**
 * Adds `sign` times G(p, q) of a person (in a variant) for every pair of days p <= day <= q: `rows` their rows of other
 * days and of the day, if any (without one, the day moves nobody: NO_MOVES).
 */
function addPairs(
  deltas: PairDeltas,
  withFlagged: boolean,
  day: string,
  rows: readonly FunnelRow[],
  sign: number,
): void {
  const movesOn = new Map(rows.map(r => [r.day, withFlagged ? r.moves_all : r.moves]));
  const fold = () => {
    let step = 0;
    return {
      add: (d: string) => (step = stepAfterDay(step, movesOn.get(d) ?? NO_MOVES)),
      sums: () => {
        const reached = FUNNEL_TYPES.map(() => 0);
        countReached(reached, step);
        return reached;
      },
    };
  };
  deltas.addAround(withFlagged, [...new Set([...movesOn.keys(), day])].sort(), day, fold, true, sign);
}
