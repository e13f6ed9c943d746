import { DataSource, EntityManager } from "typeorm";
import { sql } from "../db/query";
import { dbTime, toNumber, withTransaction } from "../db/sql";
import { selectEvents } from "../events/event-store";
import { DayRollup } from "../rollups/day-rollup";
import { deleteAndMark } from "../rollups/marks";
import { oldestKept, oldestKeptMs } from "../days";
import { Lease, withLease } from "../db/leases";
import { PeriodicTask } from "../periodic-task";
import { log } from "../log";
import { purgeRollupsBefore } from "../rollups/refresher";

export interface PurgeOptions {
  /** What "today" is; the oldest day kept follows from it and each appspace's retention. */
  now?: Date;
  /** Events deleted per transaction. */
  chunkSize?: number;
  /** Checked between chunks: true stops the purge there (what is done stays done). */
  stopping?: () => boolean;
}

/**
 * Deletes what every appspace holds from before the oldest day its retention
 * keeps (the day reports are clamped to, and before which ingest refuses
 * events): events with their items, properties and order rows, the
 * days' rollups (seven-day ones once none of their days is kept), ingestion
 * counts but this month's, and catalog rows of items no kept event mentions.
 * Identity links stay. Events go oldest first, `chunkSize` per
 * transaction through the (appspace, time) index, so the cost follows what is
 * deleted, not what is kept, and a stop loses at most the chunk in flight.
 * The days of the deleted events are marked stale, as a deletion marks them, with
 * those of refunds of deleted purchases (what such a refund takes back is now
 * counted as sent), so the refresher recomputes what sums them.
 * Server processes share the purge by appspace: each claims an appspace (a lease, src/db/leases.ts) while purging it,
 * and leaves one another holds; a purge that finds nothing old deletes nothing.
 * Returns the number of events deleted per appspace that had any.
 */
export async function purgeExpired(db: DataSource, rollups: readonly DayRollup[], opts: PurgeOptions = {}): Promise<Map<number, number>> {
  const now = opts.now ?? new Date();
  const purged = new Map<number, number>();
  const appspaces: { id: unknown; retention_days: unknown }[] = await db.query("SELECT id, retention_days FROM appspaces ORDER BY id");
  for (const a of appspaces) {
    if (opts.stopping?.()) break;
    const appspaceId = toNumber(a.id);
    const stopping = (lease: Lease) => () => !!opts.stopping?.() || lease.lost();
    const purge = (lease: Lease) => purgeAppspace(db, rollups, appspaceId, toNumber(a.retention_days), now, { ...opts, stopping: stopping(lease) });
    const events = await withLease(db, `retention:${appspaceId}`, 0, purge);
    if (events > 0) purged.set(appspaceId, events);
  }
  return purged;
}

async function purgeAppspace(db: DataSource, rollups: readonly DayRollup[], appspaceId: number, retentionDays: number, now: Date, opts: PurgeOptions): Promise<number> {
  const oldestDay = oldestKept(retentionDays, now);
  const cutoff = dbTime(new Date(oldestKeptMs(retentionDays, now)));
  const chunkSize = opts.chunkSize ?? 1000;
  let deleted = 0;
  for (;;) {
    if (opts.stopping?.()) return deleted;
    const n = await withTransaction(db, em => deleteChunk(em, appspaceId, cutoff, chunkSize));
    deleted += n;
    if (n < chunkSize) break;
  }
  // This month's ingestion counts stay whatever the retention: the plan's monthly quota reads them.
  const monthStart = `${now.toISOString().slice(0, 7)}-01`;
  await withTransaction(db, async em => {
    // After any refresh or deletion of the appspace's days in flight (it locks first): one may still write pairs of the days purged here.
    await purgeRollupsBefore(em, rollups, appspaceId, oldestDay);
    await em.query("DELETE FROM ingestion_stats WHERE appspace_id = ? AND day < ?", [appspaceId, oldestDay < monthStart ? oldestDay : monthStart]);
    // last_seen_at is the latest event mentioning the item: before the cutoff, no kept event does.
    await em.query("DELETE FROM products WHERE appspace_id = ? AND last_seen_at < ?", [appspaceId, cutoff]);
  });
  return deleted;
}

/** Deletes the appspace's oldest `chunkSize` events from before `cutoff`, with their details; returns how many. */
async function deleteChunk(em: EntityManager, appspaceId: number, cutoff: string, chunkSize: number): Promise<number> {
  const events = await selectEvents(em, appspaceId, sql`occurred_at < ${cutoff}`, "occurred_at", chunkSize);
  await deleteAndMark(em, appspaceId, events);
  return events.length;
}

/** Runs the purge in the background every `intervalMs`; the log names what each pass deleted. */
export class RetentionPurger extends PeriodicTask {
  constructor(db: DataSource, rollups: readonly DayRollup[], intervalMs: number, now: () => Date) {
    super(db, "retention", intervalMs, async stopping => {
      const started = performance.now();
      const purged = await purgeExpired(db, rollups, { now: now(), stopping });
      for (const [appspaceId, events] of purged) log.info({ scope: "retention", appspace: appspaceId, events }, "purged events older than the appspace's retention");
      log.info({ scope: "retention", appspaces: purged.size, events: [...purged.values()].reduce((a, b) => a + b, 0), durationMs: Math.round(performance.now() - started) }, "retention purge run");
    });
  }
}
