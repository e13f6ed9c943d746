import { createHash, randomUUID } from "node:crypto";
import { DataSource } from "typeorm";
import { Appspace } from "../appspaces/appspace.entity";
import { Db, dbTime, fromDbTime, placeholders, toNumber } from "../db/sql";
import { BadUserInputError } from "../errors";
import { DeletionStatus, UserDeletion } from "./identity.types";
import { identifiersOf } from "./persons";

/** What a deletion request keeps of the userId once it is done. */
export function userHash(appspaceId: number, userId: string): string {
  return createHash("sha256").update(`${appspaceId}:${userId}`).digest("hex");
}


/** How many events, and how many identifiers with any data, the person userId belongs to has. */
export async function countPersonData(db: Db, appspaceId: number, userId: string): Promise<{ events: number; identifiers: number }> {
  const { identifiers } = await identifiersOf(db, appspaceId, userId);
  const list = placeholders(identifiers.length);
  const [events] = await db.query(
    `SELECT COUNT(*) AS n FROM events WHERE appspace_id = ? AND (user_id IN (${list}) OR anonymous_id IN (${list}))`,
    [appspaceId, ...identifiers, ...identifiers],
  );
  const present: { id: string }[] = await db.query(
    `SELECT identifier AS id FROM identity_persons WHERE appspace_id = ? AND identifier IN (${list})
     UNION SELECT user_id FROM events WHERE appspace_id = ? AND user_id IN (${list})
     UNION SELECT anonymous_id FROM events WHERE appspace_id = ? AND anonymous_id IN (${list})`,
    [appspaceId, ...identifiers, appspaceId, ...identifiers, appspaceId, ...identifiers],
  );
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
export async function requestDeletion(db: DataSource, appspace: Appspace, userId: string, dryRun: boolean, now: Date): Promise<UserDeletion> {
  checkUserId(userId);
  if (dryRun) {
    const counts = await countPersonData(db, appspace.id, userId);
    return {
      id: "dry-run", ok: true, deletedUserId: userId, status: DeletionStatus.DONE, requestedAt: now, completedAt: now,
      dryRun: true, eventsDeleted: counts.events, identifiersDeleted: counts.identifiers, reason: null,
    };
  }
  const hash = userHash(appspace.id, userId);
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
    deletedUserId: r.pending_user_id ?? `sha256:${r.user_hash}`,
    status: r.status as DeletionStatus,
    requestedAt: fromDbTime(r.requested_at),
    completedAt: r.completed_at ? fromDbTime(r.completed_at) : null,
    dryRun: false,
    eventsDeleted: toNumber(r.events_deleted),
    identifiersDeleted: toNumber(r.identifiers_deleted),
    reason: r.reason ?? null,
  };
}
