import { EntityManager } from "typeorm";
import { queryRows, sql } from "../db/query";
import { Db, insertChunked, isMysql, multiRowInsert, toNumber } from "../db/sql";
import { countReached, FUNNEL_TYPES, FunnelRow, NO_MOVES, peopleFunnelRows } from "../reports/funnel.service";

/*
 * The funnel per pair of days (rollup_funnel_pairs), so that a range of clean days sums its pairs instead of moving
 * sets of people day after day. A person's moves over a day (rollup_funnel_people, by their number: funnel.service.ts,
 * movesOf) take them from the step they wait for at its start to the one they wait for at its end; over days i to j,
 * from the first step to F(i..j). By inclusion-exclusion over the person's days,
 *   reached(i..j) = sum over i <= p <= q <= j of G(p, q),  G(p, q) = R(p..q) - R(p+1..q) - R(p..q-1) + R(p+1..q-1),
 * where R(range)[n] is 1 when F(range) is past step n. G(p, p) is what the day counts alone; G(p, q), p < q, what
 * a person with moves on both changes. A day's new moves change the pairs around it only, and only through its people.
 */

export const dayFunnelRows = (db: Db, appspaceId: number, day: string) =>
  queryRows<FunnelRow>(db, sql`SELECT person, day, moves, moves_all FROM rollup_funnel_people WHERE appspace_id = ${appspaceId} AND day = ${day}`);

/**
 * Brings rollup_funnel_pairs in line with a day's rows of rollup_funnel_people, just replaced (in the caller's
 * transaction): `before` were its rows, the table holds the new ones. For each person whose row changed, the pairs
 * around the day (and the day itself) go from what the old rows made of them to what the new ones make.
 */
export async function updateFunnelPairs(db: EntityManager, appspaceId: number, day: string, before: readonly FunnelRow[]): Promise<void> {
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
  for (const r of await peopleFunnelRows(db, appspaceId, [...byPerson.keys()], sql` AND r.day <> ${day}`)) byPerson.get(toNumber(r.person))!.others.push(r);

  const deltas = new Map<string, number[]>();
  for (const { others, before: old, after: now } of byPerson.values()) {
    for (const withFlagged of [false, true]) {
      addPairs(deltas, withFlagged, day, now ? [...others, now] : others, 1);
      addPairs(deltas, withFlagged, day, old ? [...others, old] : others, -1);
    }
  }
  const rows = [...deltas].filter(([, counts]) => counts.some(c => c !== 0)).map(([key, counts]) => {
    const [withFlagged, from, to] = key.split("|");
    return [appspaceId, Number(withFlagged), from, to, ...counts];
  });
  const sums = FUNNEL_TYPES.map((_, n) => `reached${n}`);
  const columns = ["appspace_id", "with_flagged", "day_from", "day_to", ...sums];
  const tail = isMysql(db)
    ? `ON DUPLICATE KEY UPDATE ${sums.map(c => `${c} = ${c} + VALUES(${c})`).join(", ")}`
    : `ON CONFLICT (appspace_id, with_flagged, day_from, day_to) DO UPDATE SET ${sums.map(c => `${c} = ${c} + excluded.${c}`).join(", ")}`;
  await insertChunked(db, r => multiRowInsert("rollup_funnel_pairs", columns, r, tail), columns.length, rows);
}

/**
 * Adds `sign` times G(p, q) of a person (in a variant) to `deltas`, for every pair of days p <= day <= q: `rows` their
 * rows of other days and of the day, if any (without one, the day moves nobody: NO_MOVES).
 */
function addPairs(deltas: Map<string, number[]>, withFlagged: boolean, day: string, rows: readonly FunnelRow[], sign: number): void {
  const movesOn = new Map(rows.map(r => [r.day, withFlagged ? r.moves_all : r.moves]));
  const days = [...new Set([...movesOn.keys(), day])].sort();
  const k = days.indexOf(day);
  // step[i][j]: the step waited for after days i to j, for the i and j the pairs around the day read.
  const step: number[][] = days.map(() => []);
  for (let i = 0; i <= Math.min(k + 1, days.length - 1); i++) {
    let s = 0;
    for (let j = i; j < days.length; j++) {
      if (s < FUNNEL_TYPES.length) s = Number((movesOn.get(days[j]) ?? NO_MOVES)[s]);
      if (j >= k - 1) step[i][j] = s;
    }
  }
  const at = (i: number, j: number) => (i > j ? 0 : step[i][j]);
  for (let i = 0; i <= k; i++) {
    for (let j = k; j < days.length; j++) {
      const g = Array<number>(FUNNEL_TYPES.length).fill(0);
      countReached(g, at(i, j));
      countReached(g, at(i + 1, j), -1);
      countReached(g, at(i, j - 1), -1);
      countReached(g, at(i + 1, j - 1));
      if (g.every(c => c === 0)) continue;
      const key = `${withFlagged ? 1 : 0}|${days[i]}|${days[j]}`;
      let delta = deltas.get(key);
      if (!delta) deltas.set(key, (delta = Array<number>(FUNNEL_TYPES.length).fill(0)));
      for (let n = 0; n < FUNNEL_TYPES.length; n++) delta[n] += sign * g[n];
    }
  }
}
