import { randomUUID } from "node:crypto";
import { DataSource } from "typeorm";
import { Appspace } from "../appspaces/appspace.entity";
import { Db, dbTime, fromDbTime, toNumber } from "../db/sql";
import { inList, queryRows, raw, sql, Sql } from "../db/query";
import { BadUserInputError } from "../errors";
import { DeletionStatus, UserDeletion } from "./identity.types";
import { userHash } from "./audit-secret";
import { ownIdentifiers } from "./links";

/** The events of a person's own: under one of `identifiers` as userId, or as anonymousId with no userId. */
export function ownEvents(identifiers: readonly string[], e = "e"): Sql {
  const list = inList(identifiers);
  return sql`(${raw(e)}.user_id IN (${list}) OR (${raw(e)}.user_id IS NULL AND ${raw(e)}.anonymous_id IN (${list})))`;
}

/** The orders a person placed: the transactionIds of their own PURCHASE events. */
export async function ordersOf(db: Db, appspaceId: number, identifiers: readonly string[]): Promise<string[]> {
  const rows = await queryRows<{ transaction_id: string }>(db, sql`SELECT DISTINCT e.transaction_id FROM events e
    WHERE e.appspace_id = ${appspaceId} AND e.event_type = 'PURCHASE' AND e.transaction_id IS NOT NULL AND ${ownEvents(identifiers)}`);
  return rows.map(r => r.transaction_id).sort();
}

/**
 * What a deletion of userId takes: its own identifiers (ownIdentifiers), their events, and the events of the orders
 * they placed that are no other userId's (refunds, cancels and fulfilments a back office sent with the transactionId only).
 */
export async function deletionScope(db: Db, appspaceId: number, userId: string): Promise<{ identifiers: string[]; orders: string[] }> {
  const identifiers = await ownIdentifiers(db, appspaceId, userId);
  return { identifiers, orders: await ordersOf(db, appspaceId, identifiers) };
}

/**
 * The events of these of the person's orders that are not another userId's: those sent without one (a back office's
 * refunds, cancels, fulfilments) or under one of the person's own identifiers.
 */
export function eventsOfOrders(identifiers: readonly string[], orders: readonly string[], e = "e"): Sql {
  const ids = inList(identifiers);
  return sql`${raw(e)}.transaction_id IN (${inList(orders)}) AND (${raw(e)}.user_id IS NULL OR ${raw(e)}.user_id IN (${ids}))`;
}

/** The events of the person's orders and own: what a deletion takes (deletionScope). */
export function eventsOfPerson(scope: { identifiers: readonly string[]; orders: readonly string[] }, e = "e"): Sql {
  if (scope.orders.length === 0) return ownEvents(scope.identifiers, e);
  return sql`(${ownEvents(scope.identifiers, e)} OR (${eventsOfOrders(scope.identifiers, scope.orders, e)}))`;
}

/** How many events, and how many identifiers with any data, a deletion of userId takes. */
export async function countPersonData(db: Db, appspaceId: number, userId: string): Promise<{ events: number; identifiers: number }> {
  const scope = await deletionScope(db, appspaceId, userId);
  const [events] = await queryRows<{ n: unknown }>(db, sql`SELECT COUNT(*) AS n FROM events e WHERE e.appspace_id = ${appspaceId} AND ${eventsOfPerson(scope)}`);
  const ids = inList(scope.identifiers);
  const present = await queryRows<{ id: string }>(db, sql`
    SELECT identifier AS id FROM identity_persons WHERE appspace_id = ${appspaceId} AND identifier IN (${ids})
    UNION SELECT user_id FROM events WHERE appspace_id = ${appspaceId} AND user_id IN (${ids})
    UNION SELECT anonymous_id FROM events WHERE appspace_id = ${appspaceId} AND anonymous_id IN (${ids})`);
  return { events: toNumber(events.n), identifiers: present.length };
}

function checkUserId(userId: string) {
  if (userId.length === 0 || userId.length > 128) throw new BadUserInputError("userId must be 1 to 128 characters", { field: "userId" });
}

/**
 * Records a deletion request and returns it at once; the worker deletes in the
 * background. A request for a person already queued returns that request. A dry
 * run only counts what would go.
 */
export async function requestDeletion(db: DataSource, auditSecret: Buffer, appspace: Appspace, userId: string, dryRun: boolean, now: Date): Promise<UserDeletion> {
  checkUserId(userId);
  if (dryRun) {
    const counts = await countPersonData(db, appspace.id, userId);
    return {
      id: "dry-run", ok: true, deletedUserId: userId, status: DeletionStatus.DONE, requestedAt: now, completedAt: now,
      dryRun: true, eventsDeleted: counts.events, identifiersDeleted: counts.identifiers, reason: null,
    };
  }
  const hash = userHash(auditSecret, appspace.id, userId);
  const open = await findRequest(db, appspace.id, "user_hash = ? AND status IN ('PENDING', 'RUNNING')", [hash]);
  if (open) return open;
  const publicId = randomUUID();
  await db.query(
    `INSERT INTO deletion_requests (appspace_id, public_id, user_hash, pending_user_id, status, requested_at) VALUES (?, ?, ?, ?, 'PENDING', ?)`,
    [appspace.id, publicId, hash, userId, dbTime(now)],
  );
  return (await findRequest(db, appspace.id, "public_id = ?", [publicId]))!;
}

/** A request of the appspace by its public id; null for none (or another appspace's). */
export function deletionById(db: DataSource, appspace: Appspace, id: string): Promise<UserDeletion | null> {
  return findRequest(db, appspace.id, "public_id = ?", [id]);
}

async function findRequest(db: DataSource, appspaceId: number, where: string, params: unknown[]): Promise<UserDeletion | null> {
  const [r] = await db.query(
    `SELECT public_id, user_hash, pending_user_id, status, reason, events_deleted, identifiers_deleted, requested_at, completed_at
     FROM deletion_requests WHERE appspace_id = ? AND ${where} ORDER BY id DESC LIMIT 1`,
    [appspaceId, ...params],
  );
  if (!r) return null;
  return {
    id: r.public_id,
    ok: r.status !== DeletionStatus.FAILED,
    // Once done, only the hash of the userId is kept.
    deletedUserId: r.pending_user_id ?? `hmac-sha256:${r.user_hash}`,
    status: r.status as DeletionStatus,
    requestedAt: fromDbTime(r.requested_at),
    completedAt: r.completed_at ? fromDbTime(r.completed_at) : null,
    dryRun: false,
    eventsDeleted: toNumber(r.events_deleted),
    identifiersDeleted: toNumber(r.identifiers_deleted),
    reason: r.reason ?? null,
  };
}
