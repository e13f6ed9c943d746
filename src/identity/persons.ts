import { EntityManager } from "typeorm";
import { Db, isMysql, multiRowInsert } from "../db/sql";
import { inList, joinSql, queryRows, sql } from "../db/query";
import { dialectOf } from "../db/dialect";

/** A link from an identifier (anonymousId or alias) to a userId. */
export type Link = readonly [identifier: string, userId: string];

/**
 * Makes the caller's transaction the only one changing the appspace's identity links and persons until it ends: on
 * MySQL it locks the appspace's row of identity_locks (made on first use). Every writer of identity_persons takes it
 * first, before any other row (ingest before its events, as what it reads of events for a merge waits for their
 * writers), so merges never interleave and never deadlock with each other. SQLite writes one transaction at a time.
 */
export async function lockIdentities(em: EntityManager, appspaceId: number): Promise<void> {
  if (isMysql(em)) await em.query("INSERT INTO identity_locks (appspace_id) VALUES (?) ON DUPLICATE KEY UPDATE appspace_id = appspace_id", [appspaceId]);
}

/**
 * Keeps `identity_persons` current for new links, in the caller's transaction, which holds lockIdentities.
 * Links are transitive: everything connected by links is one person, named by the
 * smallest userId among them, so the name does not depend on the order links arrive.
 * When a link joins two people, the rows of the one renamed are updated in one statement.
 * Returns the identifiers whose person changed (their events now count for another one).
 */
export async function linkPersons(em: EntityManager, appspaceId: number, links: readonly Link[]): Promise<string[]> {
  if (links.length === 0) return [];
  const ids = [...new Set(links.flat())].sort();
  const rows = await queryRows<{ identifier: string; person: string }>(em, sql`
    SELECT identifier, person FROM identity_persons WHERE appspace_id = ${appspaceId} AND identifier IN (${inList(ids)})`);
  const current = new Map(rows.map(r => [r.identifier, r.person]));

  // Union-find over the identifiers, their current persons and the new links.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    const p = parent.get(x);
    if (p === undefined || p === x) return x;
    const root = find(p);
    parent.set(x, root);
    return root;
  };
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra, rb);
  };
  for (const [identifier, person] of current) union(identifier, person);
  for (const [identifier, userId] of links) union(identifier, userId);

  // A person's name: the smallest of the names already in use and the userIds newly linked.
  const name = new Map<string, string>();
  const propose = (root: string, candidate: string) => {
    const held = name.get(root);
    if (held === undefined || candidate < held) name.set(root, candidate);
  };
  for (const person of current.values()) propose(find(person), person);
  for (const [, userId] of links) propose(find(userId), userId);

  const renamed = new Map<string, string>();
  for (const person of new Set(current.values())) {
    const next = name.get(find(person))!;
    if (next !== person) renamed.set(person, next);
  }
  // An identifier not linked before is its own person.
  const moved = new Set(ids.filter(id => (current.get(id) ?? id) !== name.get(find(id))));
  if (renamed.size) {
    const renamedOnes = sql`appspace_id = ${appspaceId} AND person IN (${inList(renamed.keys())})`;
    const members = await queryRows<{ identifier: string }>(em, sql`SELECT identifier FROM identity_persons WHERE ${renamedOnes}`);
    for (const m of members) moved.add(m.identifier);
    const cases = joinSql([...renamed].map(([from, to]) => sql`WHEN ${from} THEN ${to}`), " ");
    await queryRows(em, sql`UPDATE identity_persons SET person = CASE person ${cases} END WHERE ${renamedOnes}`);
  }
  const added = ids.filter(id => !current.has(id)).map(id => [appspaceId, id, name.get(find(id))!]);
  if (added.length) {
    const columns = ["appspace_id", "identifier", "person"];
    const relink = dialectOf(em).onConflict("identity_persons", ["appspace_id", "identifier"], { person: (_stored, incoming) => incoming });
    await em.query(...multiRowInsert("identity_persons", columns, added, relink));
  }
  return [...moved];
}

/** The person a userId (or any linked identifier) belongs to, and every identifier of that person. */
export async function identifiersOf(db: Db, appspaceId: number, userId: string): Promise<{ person: string; identifiers: string[] }> {
  const [row] = await db.query("SELECT person FROM identity_persons WHERE appspace_id = ? AND identifier = ?", [appspaceId, userId]);
  const person: string = row?.person ?? userId;
  const linked: { identifier: string }[] = await db.query(
    "SELECT identifier FROM identity_persons WHERE appspace_id = ? AND person = ?", [appspaceId, person]);
  return { person, identifiers: [...new Set([userId, person, ...linked.map(r => r.identifier)])].sort() };
}

