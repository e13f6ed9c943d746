import { createHash } from "node:crypto";
import { RoaringBitmap32 } from "roaring";
import { EntityManager } from "typeorm";
import { joinSql, queryRows, sql, inList } from "../db/query";
import { Db, insertChunked, multiRowInsert, toNumber } from "../db/sql";
import { dialectOf } from "../db/dialect";

/*
 * Sets of people, for the rollups of reports that count people over a range (funnel, channel reach): each day
 * stores its sets as Roaring bitmaps of the people's numbers, and a report unions and intersects a range's sets
 * instead of reading a row per person and day. rollup_people numbers an appspace's people, keyed by a hash of
 * the person rather than the identifier itself; only the refresher numbers people, one at a time per database.
 */

export type PeopleSet = RoaringBitmap32;
export const emptySet = (): PeopleSet => new RoaringBitmap32();

/** A set as stored: Roaring's portable format, run containers where they are smaller. */
export function storedSet(set: PeopleSet): Uint8Array {
  set.runOptimize();
  return set.serialize("portable");
}

export const setOf = (stored: Buffer | Uint8Array): PeopleSet => RoaringBitmap32.deserialize(stored, "portable");

/**
 * How the database tells people apart: MariaDB's utf8mb4_bin ignores trailing spaces (so does its GROUP BY over
 * persons, in the raw reports), SQLite's BINARY does not. People that compare equal share a number.
 */
export function samePerson(db: Db): (person: string) => string {
  return dialectOf(db).compared;
}

/** The key of a person in rollup_people (a person as the database tells them apart: see samePerson). */
export const personHash = (person: string) => createHash("sha256").update(person).digest().subarray(0, 16);

/** Numbers of people who have none yet, for a report's stale days: above every stored one (those stay below 2^31). */
const UNNUMBERED = 0x8000_0000;

/** Looks people up by hash, a statement per 10,000 (the bound values stay within SQLite's). */
async function storedNumbers(db: Db, appspaceId: number, keys: readonly string[]): Promise<Map<string, number>> {
  const byHash = new Map(keys.map(k => [personHash(k).toString("hex"), k]));
  const found = new Map<string, number>();
  const hashes = [...byHash.keys()];
  for (let i = 0; i < hashes.length; i += 10_000) {
    const list = joinSql(hashes.slice(i, i + 10_000).map(h => sql`${Buffer.from(h, "hex")}`));
    const rows = await queryRows<{ person_hash: Buffer; ordinal: unknown }>(
      db,
      sql`SELECT person_hash, ordinal FROM rollup_people WHERE appspace_id = ${appspaceId} AND person_hash IN
        (${list})`,
    );
    for (const r of rows) found.set(byHash.get(Buffer.from(r.person_hash).toString("hex"))!, toNumber(r.ordinal));
  }
  return found;
}

/**
 * The numbers of these people, numbering those who have none (the refresher's, in its transaction), added to `numbers`
 * (people as samePerson gives them): people already there are not looked up again. Returns a lookup by person.
 */
export async function numberPeople(
  db: EntityManager,
  appspaceId: number,
  people: Iterable<string>,
  numbers = new Map<string, number>(),
): Promise<(person: string) => number> {
  const same = samePerson(db);
  const keys = [...new Set([...people].map(same))].filter(k => !numbers.has(k));
  for (const [k, n] of await storedNumbers(db, appspaceId, keys)) numbers.set(k, n);
  const missing = keys.filter(k => !numbers.has(k));
  if (missing.length > 0) {
    const [top] = await queryRows<{ n: unknown }>(
      db,
      sql`SELECT COALESCE(MAX(ordinal), 0) AS n FROM rollup_people WHERE appspace_id = ${appspaceId}`,
    );
    let next = toNumber(top.n);
    if (next + missing.length >= UNNUMBERED)
      throw new Error(`appspace ${appspaceId}: more people than set numbers (2^31)`);
    const rows = missing.map(k => {
      numbers.set(k, ++next);
      return [appspaceId, personHash(k), next];
    });
    await insertChunked(
      db,
      r => multiRowInsert("rollup_people", ["appspace_id", "person_hash", "ordinal"], r),
      3,
      rows,
    );
  }
  return person => {
    const n = numbers.get(same(person));
    if (n === undefined) throw new Error(`no number for a person of appspace ${appspaceId}`);
    return n;
  };
}

/**
 * The numbers of these people for a report (which writes nothing): stored ones, and for people the refresher has
 * not numbered yet, numbers of their own that no stored one takes. Returns a lookup by person.
 */
export async function peopleNumbers(
  db: Db,
  appspaceId: number,
  people: Iterable<string>,
): Promise<(person: string) => number> {
  const same = samePerson(db);
  const keys = [...new Set([...people].map(same))];
  const numbers = await storedNumbers(db, appspaceId, keys);
  let next = UNNUMBERED;
  for (const k of keys) if (!numbers.has(k)) numbers.set(k, next++);
  return person => numbers.get(same(person))!;
}

/**
 * Forgets these people's numbers (a deletion: their days are marked, so no clean day's sets hold them once refreshed).
 */
export async function forgetPeople(db: Db, appspaceId: number, people: readonly string[]): Promise<void> {
  const same = samePerson(db);
  const hashes = [...new Set(people.map(same))].map(personHash);
  for (let i = 0; i < hashes.length; i += 10_000) {
    await queryRows(
      db,
      sql`DELETE FROM rollup_people WHERE appspace_id = ${appspaceId} AND person_hash IN
        (${inList(hashes.slice(i, i + 10_000))})`,
    );
  }
}
