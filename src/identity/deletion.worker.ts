import { DataSource, EntityManager } from "typeorm";
import { rebuildProducts } from "../catalog/product.writer";
import { dbTime, toNumber, withTransaction } from "../db/sql";
import { inList, queryRows, Sql, sql } from "../db/query";
import { selectEvents } from "../events/event-store";
import { DayRollup } from "../rollups/day-rollup";
import { deleteAndMark, markPeopleDays } from "../rollups/marks";
import { forgetInRollups, lockPeopleRollups } from "../rollups/refresher";
import { reportFailure } from "../db/health";
import { log } from "../log";
import { countPersonData, deletionScope, eventsOfOrders, ownEvents } from "./deletion.service";
import { identifiersOf, linkPersons, lockIdentities } from "./persons";
import { dialectOf } from "../db/dialect";

export interface DeletionWorkerOptions {
  /** Events deleted per transaction. */
  chunkSize?: number;
  /** Pause between chunks, to spare a busy database. */
  pauseMs?: number;
  /** How long a worker owns a RUNNING request without progress before another (or a restarted server) takes it over. */
  leaseMs?: number;
  /** How often to look for work besides being kicked. */
  pollMs?: number;
  now?: () => Date;
}

const MAX_ATTEMPTS = 3;

/** Orders whose events one statement looks for (bound values stay well within SQLite's limit). */
const ORDERS_AT_ONCE = 500;

interface Claimed { id: number; appspaceId: number; userId: string; attempts: number }

/**
 * Carries out deletion requests in the background, one chunk of events per
 * transaction, so a crash loses at most the chunk in flight. Requests left
 * RUNNING by a stopped server are taken over once their lease lapses.
 */
export class DeletionWorker {
  private readonly chunkSize: number;
  private readonly pauseMs: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly db: DataSource, private readonly rollups: readonly DayRollup[], opts: DeletionWorkerOptions = {}) {
    this.chunkSize = opts.chunkSize ?? 500;
    this.pauseMs = opts.pauseMs ?? 0;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 2_000;
    this.now = opts.now ?? (() => new Date());
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Looks for work now (after a new request). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch(err => reportFailure(this.db, "deletion", "worker error", err))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Stops after the chunk in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    for (let job = await this.claim(); job && !this.stopped; job = await this.claim()) await this.process(job);
  }

  /** Takes the oldest PENDING request, or a RUNNING one whose lease lapsed. */
  private claim(): Promise<Claimed | null> {
    return withTransaction(this.db, async em => {
      const now = this.now();
      const lock = dialectOf(em).skipLocked;
      const [r] = await em.query(
        `SELECT id, appspace_id, pending_user_id, attempts FROM deletion_requests
         WHERE status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?) ORDER BY requested_at, id LIMIT 1${lock}`,
        [dbTime(now)],
      );
      if (!r) return null;
      await em.query(
        "UPDATE deletion_requests SET status = 'RUNNING', started_at = COALESCE(started_at, ?), lease_until = ?, attempts = attempts + 1 WHERE id = ?",
        [dbTime(now), dbTime(new Date(now.getTime() + this.leaseMs)), r.id],
      );
      return { id: toNumber(r.id), appspaceId: toNumber(r.appspace_id), userId: r.pending_user_id, attempts: toNumber(r.attempts) + 1 };
    });
  }

  private async process(job: Claimed): Promise<void> {
    try {
      // Counted before anything goes; a resumed request keeps the count of its first run.
      const present = (await countPersonData(this.db, job.appspaceId, job.userId)).identifiers;
      await this.db.query(
        "UPDATE deletion_requests SET identifiers_deleted = CASE WHEN identifiers_deleted < ? THEN ? ELSE identifiers_deleted END WHERE id = ?",
        [present, present, job.id],
      );
      const { identifiers, orders } = await deletionScope(this.db, job.appspaceId, job.userId);
      // The person's orders whole first, their purchases last: a resumed request finds the orders again by those.
      for (let i = 0; i < orders.length && !this.stopped; i += ORDERS_AT_ONCE) {
        const some = orders.slice(i, i + ORDERS_AT_ONCE);
        await this.deleteAll(job, identifiers, eventsOfOrders(identifiers, some, "events"), "CASE WHEN event_type = 'PURCHASE' THEN 1 ELSE 0 END, id");
      }
      await this.deleteAll(job, identifiers, ownEvents(identifiers, "events"), "id");
      if (this.stopped) return;
      await withTransaction(this.db, em => this.finish(em, job, identifiers));
      log.info({ scope: "deletion", request: job.id, appspace: job.appspaceId, attempt: job.attempts }, "deletion done");
    } catch (err) {
      reportFailure(this.db, "deletion", "request failed", err, { request: job.id, attempt: job.attempts });
      const failed = job.attempts >= MAX_ATTEMPTS;
      await this.db.query(
        failed
          ? "UPDATE deletion_requests SET status = 'FAILED', reason = ?, pending_user_id = NULL, completed_at = ?, lease_until = NULL WHERE id = ?"
          : "UPDATE deletion_requests SET reason = ?, lease_until = ? WHERE id = ?",
        [failed ? `Deletion failed ${MAX_ATTEMPTS} times; request it again` : "retrying after an error", dbTime(this.now()), job.id],
      );
    }
  }

  /** Deletes the events `where` matches, a chunk per transaction, until none is left or the worker stops. */
  private async deleteAll(job: Claimed, identifiers: string[], where: Sql, order: string): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      const deleted = await withTransaction(this.db, em => this.deleteChunk(em, job, identifiers, where, order));
      if (deleted === 0) return;
      log.info({ scope: "deletion", request: job.id, appspace: job.appspaceId, events: deleted, durationMs: Math.round(performance.now() - started) }, "deletion chunk");
      if (this.pauseMs) await new Promise(r => setTimeout(r, this.pauseMs));
    }
  }

  /** Deletes one chunk of the events with their items, properties and orders, and refreshes the catalog they described. */
  private async deleteChunk(em: EntityManager, job: Claimed, identifiers: string[], where: Sql, order: string): Promise<number> {
    await lockPeopleRollups(em, job.appspaceId, true);
    const events = await selectEvents(em, job.appspaceId, where, order, this.chunkSize);
    if (events.length === 0) return 0;
    const items = await queryRows<{ item_id: string }>(em, sql`
      SELECT DISTINCT item_id FROM event_items WHERE appspace_id = ${job.appspaceId} AND event_row_id IN (${inList(events.map(e => e.id))})`);
    await deleteAndMark(em, job.appspaceId, events);
    await forgetInRollups(em, this.rollups, job.appspaceId, identifiers, events.map(e => e.day));
    await rebuildProducts(em, job.appspaceId, items.map(i => i.item_id));
    await em.query(
      "UPDATE deletion_requests SET events_deleted = events_deleted + ?, lease_until = ? WHERE id = ?",
      [events.length, dbTime(new Date(this.now().getTime() + this.leaseMs)), job.id],
    );
    return events.length;
  }

  /**
   * Removes the person's identity links and marks the request done, keeping only the hash of the userId. Whoever
   * else belonged to the same person (another userId a secret key joined to it, and its identifiers) stays, as the
   * person its remaining links make: named afresh, its days marked to be rolled up again.
   */
  private async finish(em: EntityManager, job: Claimed, identifiers: string[]): Promise<void> {
    await lockPeopleRollups(em, job.appspaceId, true);
    await lockIdentities(em, job.appspaceId);
    const { person, identifiers: members } = await identifiersOf(em, job.appspaceId, job.userId);
    const deleted = new Set(identifiers);
    const remaining = members.filter(m => !deleted.has(m));
    const deletedIds = inList(identifiers);
    await queryRows(em, sql`DELETE FROM identity_links WHERE appspace_id = ${job.appspaceId}
      AND (identifier IN (${deletedIds}) OR user_id IN (${deletedIds}))`);
    await queryRows(em, sql`DELETE FROM identity_persons WHERE appspace_id = ${job.appspaceId} AND identifier IN (${inList(members)})`);
    if (remaining.length) {
      const kept = inList(remaining);
      const links = await queryRows<{ identifier: string; user_id: string }>(em, sql`SELECT identifier, user_id FROM identity_links
        WHERE appspace_id = ${job.appspaceId} AND (identifier IN (${kept}) OR user_id IN (${kept}))`);
      await linkPersons(em, job.appspaceId, links.map(l => [l.identifier, l.user_id] as const));
    }
    // Events sent since the last chunk (if any) now count for their own ids, and the others for their new person.
    await markPeopleDays(em, job.appspaceId, [...identifiers, ...remaining]);
    await forgetInRollups(em, this.rollups, job.appspaceId, [...new Set([...identifiers, person])], null);
    await em.query(
      "UPDATE deletion_requests SET status = 'DONE', pending_user_id = NULL, reason = NULL, lease_until = NULL, completed_at = ? WHERE id = ?",
      [dbTime(this.now()), job.id],
    );
  }
}
