import { DataSource, EntityManager } from "typeorm";
import { sql } from "../db/query";
import { dbTime, isMysql, toNumber, withTransaction } from "../db/sql";
import { deleteEvents, selectEvents } from "../ingest/event-writer";
import { addDays, oldestKept, oldestKeptMs } from "../reports/range";
import { WEEK } from "../reports/sources";
import { PeriodicTask } from "../periodic-task";
import { DAY_TABLES, lockPeopleRollups } from "../rollups/rollups";

export interface PurgeOptions {
  /** What "today" is; the oldest day kept follows from it and each appspace's retention. */
  now?: Date;
  /** Events deleted per transaction. */
  chunkSize?: number;
  /** Checked between chunks: true stops the purge there (what is done stays done). */
  stopping?: () => boolean;
}

/** Seven-day rollups, dropped once all seven days are. */
const SPAN_TABLES = ["rollup_sales_7d", "rollup_products_7d"] as const;

/**
 * Deletes what every appspace holds from before the oldest day its retention
 * keeps (the day reports are clamped to, and before which ingest refuses
 * events): events with their items, properties and purchase claims, the
 * days' rollups (seven-day ones once none of their days is kept), ingestion
 * counts but this month's, and catalog rows of items no kept event mentions.
 * Identity links stay. Events go oldest first, `chunkSize` per
 * transaction through the (appspace, time) index, so the cost follows what is
 * deleted, not what is kept, and a stop loses at most the chunk in flight.
 * The days of the deleted events are marked stale, as a deletion marks them, with
 * those of refunds of deleted purchases (what such a refund takes back is now
 * counted as sent), so the refresher recomputes what sums them.
 * On MySQL one purge runs at a time per database, across servers (a named lock).
 * Returns the number of events deleted per appspace that had any.
 */
export async function purgeExpired(db: DataSource, opts: PurgeOptions = {}): Promise<Map<number, number>> {
  const now = opts.now ?? new Date();
  const purged = new Map<number, number>();
  const runner = db.createQueryRunner();
  try {
    if (isMysql(db)) {
      const [got] = await runner.query("SELECT GET_LOCK(CONCAT(DATABASE(), '.retention'), 0) AS ok");
      if (toNumber(got.ok) !== 1) return purged;
    }
    try {
      const appspaces: { id: unknown; retention_days: unknown }[] = await db.query("SELECT id, retention_days FROM appspaces ORDER BY id");
      for (const a of appspaces) {
        if (opts.stopping?.()) break;
        const appspaceId = toNumber(a.id);
        const events = await purgeAppspace(db, appspaceId, toNumber(a.retention_days), now, opts);
        if (events > 0) purged.set(appspaceId, events);
      }
      return purged;
    } finally {
      if (isMysql(db)) await runner.query("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.retention'))");
    }
  } finally {
    await runner.release();
  }
}

async function purgeAppspace(db: DataSource, appspaceId: number, retentionDays: number, now: Date, opts: PurgeOptions): Promise<number> {
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
    // After any refresh or deletion of the appspace's days in flight: one may still write pairs of the days purged here.
    await lockPeopleRollups(em, appspaceId, true);
    // Buyers' rows stay until the refresher recomputes their (marked) days: it also resets the cohort of the people whose rows go.
    for (const table of DAY_TABLES.filter(t => t !== "rollup_buyers")) await em.query(`DELETE FROM ${table} WHERE appspace_id = ? AND day < ?`, [appspaceId, oldestDay]);
    await em.query("DELETE FROM rollup_attribution WHERE appspace_id = ? AND with_flagged IN (0, 1) AND day < ?", [appspaceId, oldestDay]);
    for (const pairs of ["rollup_cart_pairs", "rollup_funnel_pairs"]) await em.query(`DELETE FROM ${pairs} WHERE appspace_id = ? AND with_flagged IN (0, 1) AND day_from < ?`, [appspaceId, oldestDay]);
    // A span that also holds kept days stays, for a comparison period reaching past the retention: the purged
    // days' marks (left to the refresher, like every mark) have it recomputed from what is kept.
    for (const table of SPAN_TABLES) await em.query(`DELETE FROM ${table} WHERE appspace_id = ? AND day < ?`, [appspaceId, addDays(oldestDay, 1 - WEEK)]);
    await em.query("DELETE FROM ingestion_stats WHERE appspace_id = ? AND day < ?", [appspaceId, oldestDay < monthStart ? oldestDay : monthStart]);
    // last_seen_at is the latest event mentioning the item: before the cutoff, no kept event does.
    await em.query("DELETE FROM products WHERE appspace_id = ? AND last_seen_at < ?", [appspaceId, cutoff]);
  });
  return deleted;
}

/** Deletes the appspace's oldest `chunkSize` events from before `cutoff`, with their details; returns how many. */
async function deleteChunk(em: EntityManager, appspaceId: number, cutoff: string, chunkSize: number): Promise<number> {
  const events = await selectEvents(em, appspaceId, sql`occurred_at < ${cutoff}`, "occurred_at", chunkSize);
  await deleteEvents(em, appspaceId, events);
  return events.length;
}

/** Runs the purge in the background every `intervalMs`; the log names what each pass deleted. */
export class RetentionPurger extends PeriodicTask {
  constructor(db: DataSource, intervalMs: number, now: () => Date) {
    super(db, "retention", intervalMs, async stopping => {
      const purged = await purgeExpired(db, { now: now(), stopping });
      for (const [appspaceId, events] of purged) console.log(`[retention] appspace ${appspaceId}: deleted ${events} events older than its retention`);
    });
  }
}
