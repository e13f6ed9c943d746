import { EntityManager } from "typeorm";
import { Db } from "../db/sql";
import { inList, queryRows, sql } from "../db/query";

/** A link an event asks for: its anonymousId or one of its aliases, to its userId. */
export interface LinkRequest<E> {
  identifier: string;
  userId: string;
  kind: "anonymous" | "alias";
  /** Sent with a secret key (a server): may join two userIds. */
  trusted: boolean;
  event: E;
}

/**
 * Which requested links are made. PostHog's rule is the anchor: an identified person is never merged into another
 * by a client. A publishable key sits in every storefront's page source, so a link it sends is refused when its
 * identifier
 * - already belongs to other userIds only (an anonymousId joins one userId, the first it was sent with), or
 * - is a userId itself (its `aliases` may name anonymous ids only), or
 * - was taken for another userId by an earlier request of the same batch.
 * A secret key may link anything: joining two userIds takes one. Runs in the caller's transaction, which holds
 * lockIdentities, so that no other transaction links the same identifiers meanwhile.
 * `batchUserIds`: the userIds of the batch's events, which are userIds too. Returns the links to make, and the events
 * that asked for a link refused (counted as identity_conflict).
 */
export async function admitLinks<E>(em: EntityManager, appspaceId: number, requests: readonly LinkRequest<E>[], batchUserIds: Iterable<string>): Promise<{ admitted: LinkRequest<E>[]; refused: Set<E> }> {
  const untrusted = [...new Set(requests.filter(r => !r.trusted).map(r => r.identifier))];
  const { owners, userIds } = await identifierFacts(em, appspaceId, untrusted);
  for (const id of batchUserIds) userIds.add(id);

  const admitted: LinkRequest<E>[] = [];
  const refused = new Set<E>();
  for (const r of requests) {
    const held = owners.get(r.identifier);
    if (!r.trusted && (userIds.has(r.identifier) || (held !== undefined && !held.has(r.userId)))) {
      refused.add(r.event);
      continue;
    }
    admitted.push(r);
    if (!held) owners.set(r.identifier, new Set([r.userId]));
    else held.add(r.userId);
  }
  return { admitted, refused };
}

/**
 * What the appspace knows of these identifiers, in one round trip: the userIds each is linked to (several, when a
 * secret key linked it so), and which of them are userIds (an event was sent with it as userId, or something links to it).
 */
async function identifierFacts(db: Db, appspaceId: number, identifiers: readonly string[]): Promise<{ owners: Map<string, Set<string>>; userIds: Set<string> }> {
  if (identifiers.length === 0) return { owners: new Map(), userIds: new Set() };
  const list = inList(identifiers);
  const rows = await queryRows<{ id: string; owner: string | null }>(db, sql`
    SELECT identifier AS id, user_id AS owner FROM identity_links WHERE appspace_id = ${appspaceId} AND identifier IN (${list})
    UNION ALL SELECT DISTINCT user_id, NULL FROM identity_links WHERE appspace_id = ${appspaceId} AND user_id IN (${list})
    UNION ALL SELECT DISTINCT user_id, NULL FROM events WHERE appspace_id = ${appspaceId} AND user_id IN (${list})`);
  const owners = new Map<string, Set<string>>();
  for (const r of rows) if (r.owner !== null) owners.set(r.id, (owners.get(r.id) ?? new Set()).add(r.owner));
  return { owners, userIds: new Set(rows.filter(r => r.owner === null).map(r => r.id)) };
}

/**
 * What a deletion of `userId` takes: the userId, and the identifiers linked to it alone (an anonymousId or alias that
 * no other userId is linked to and that is no userId itself). Another userId joined to the same person by a secret
 * key keeps its events, and so does an anonymous id it shares.
 */
export async function ownIdentifiers(db: Db, appspaceId: number, userId: string): Promise<string[]> {
  const linked = await queryRows<{ identifier: string }>(db, sql`
    SELECT identifier FROM identity_links WHERE appspace_id = ${appspaceId} AND user_id = ${userId}`);
  const candidates = linked.map(l => l.identifier).filter(id => id !== userId);
  if (candidates.length === 0) return [userId];
  const shared = await queryRows<{ identifier: string }>(db, sql`
    SELECT DISTINCT identifier FROM identity_links WHERE appspace_id = ${appspaceId} AND identifier IN (${inList(candidates)}) AND user_id <> ${userId}`);
  const excluded = new Set([...shared.map(s => s.identifier), ...(await identifierFacts(db, appspaceId, candidates)).userIds]);
  return [userId, ...candidates.filter(id => !excluded.has(id))].sort();
}
