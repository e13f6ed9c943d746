import { DataSource, EntityManager, QueryRunner } from "typeorm";
import { Db, isMysql, toNumber, withTransaction } from "../db/sql";
import { reportFailure } from "../db/health";
import { Lease, withLease } from "../db/leases";
import { dialectOf } from "../db/dialect";
import { queryRows, raw, sql } from "../db/query";
import { periodOf } from "../days";
import { DayEvent, eachDayEvents } from "../events/day-events";
import { PeriodicTask } from "../periodic-task";
import { log } from "../log";
import { deadlocks, rollupRefreshDuration } from "../metrics";
import { driverError } from "../db/failures";
import { DayRollup, DayWork, RefreshingDay } from "./day-rollup";
import { forgetPeople, numberPeople } from "./people-sets";

/*
 * The refresher: recomputes stale days (rollup_dirty) from raw events through the read models it is handed
 * (src/read-models.ts), one day per transaction, and forgets people in them for a deletion.
 */

/**
 * On MySQL, orders what the refresher computes of an appspace's people and what a deletion removes of them: the
 * refresher takes the appspace's row in share mode for each day it recomputes (other refreshes and ingest go on), a
 * deletion takes it for update first in each of its transactions. Otherwise a day recomputed from events read just
 * before a deletion commits could write the person's rows and number back after the deletion removed them. Nothing else
 * locks that row but changes of the appspace's settings. SQLite runs one transaction at a time.
 */
export async function lockPeopleRollups(em: Db, appspaceId: number, forUpdate: boolean): Promise<void> {
  const lock = forUpdate ? " FOR UPDATE" : dialectOf(em).shareLock;
  if (dialectOf(em).mysql) await queryRows(em, sql`SELECT id FROM appspaces WHERE id = ${appspaceId}${raw(lock)}`);
}

export interface RefreshOptions {
  /** Marks read at a time; each pass refreshes the days they name. */
  batch?: number;
  /** Stop after this many reads (default: until every mark of the log as it was at the start is dealt with). */
  passes?: number;
  /**
   * How long to wait for each appspace another refresher holds (another process, or the server's refresher beside a
   * command); by default none: leave its days to it.
   */
  waitSeconds?: number;
  /** Checked between days: true stops the refresh there. */
  stopping?: () => boolean;
  /**
   * Days it returns true for (given the id of the day's newest mark read) stay stale: their newest mark is left for a
   * later call.
   */
  skip?: (appspaceId: number, day: string, newestMark: number) => boolean;
  /** Told of each day refreshed. */
  refreshed?: (appspaceId: number, day: string) => void;
  /** Told of each day whose refresh failed (it stays stale; the error is logged). */
  failed?: (appspaceId: number, day: string) => void;
  /** Events of a day collected at once for the rollups of what people did; a busier day is collected in parts. */
  partEvents?: number;
}

/**
 * Recomputes the rollups of the days named in rollup_dirty from raw events, one day per transaction, until every day
 * marked before the call (and not left by `skip`) has been refreshed; a mark that commits meanwhile with a lower id
 * than those read is left for the next call. Each day is recomputed at READ COMMITTED (MySQL), so it never locks the
 * events ingest is writing. Returns the number of days refreshed.
 *
 * Server processes share the work by appspace: for each batch of marks, a process claims an appspace (a lease,
 * src/db/leases.ts) while it works on its days, and leaves the days of appspaces another holds to it. The unit is the
 * appspace, not the day, because an appspace's days share rows: a day's refresh recomputes the seven-day spans holding
 * it from its neighbours' rows, numbers the appspace's people from one counter, and credits purchases to the previous
 * day's touches; two days of one appspace refreshed at once would each read the other's rows as they were.
 */
export async function refreshStaleDays(
  db: DataSource,
  rollups: readonly DayRollup[],
  opts: RefreshOptions = {},
): Promise<number> {
  const runner = db.createQueryRunner();
  try {
    const refreshed = await refreshMarkedDays(db, runner, rollups, opts);
    for (const rollup of rollups) {
      if (rollup.followUp && !opts.stopping?.()) await refreshFollowUp(db, runner, rollup, opts);
    }
    return refreshed;
  } finally {
    await runner.release();
  }
}

/** Work on one appspace's days; told to stop when the refresh is, or when the appspace's lease is lost. */
type AppspaceWork<D> = (days: D[], stopping: () => boolean) => Promise<void>;

/**
 * Runs `work` on the days of a batch, an appspace at a time, each holding the appspace's lease (waiting up to
 * `waitSeconds` for it) and giving it up after, so that another process may take the appspace's next days meanwhile;
 * the days of an appspace another process holds are left to it.
 */
async function eachAppspace<D extends { appspaceId: number }>(
  db: DataSource,
  days: readonly D[],
  opts: RefreshOptions,
  work: AppspaceWork<D>,
): Promise<void> {
  const byAppspace = new Map<number, D[]>();
  for (const d of days) {
    const ofAppspace = byAppspace.get(d.appspaceId);
    if (ofAppspace) ofAppspace.push(d);
    else byAppspace.set(d.appspaceId, [d]);
  }
  for (const [appspaceId, ofAppspace] of byAppspace) {
    if (opts.stopping?.()) return;
    const claimed = (lease: Lease) => work(ofAppspace, () => !!opts.stopping?.() || lease.lost());
    await withLease(db, `rollups:${appspaceId}`, undefined, claimed, { waitMs: (opts.waitSeconds ?? 0) * 1000 });
  }
}

/** The days of the marks there are now, a batch at a time (days that writers keep marking wait for the next call). */
async function refreshMarkedDays(
  db: DataSource,
  runner: QueryRunner,
  rollups: readonly DayRollup[],
  opts: RefreshOptions,
): Promise<number> {
  const [last] = await runner.query("SELECT COALESCE(MAX(id), 0) AS id FROM rollup_dirty");
  let refreshed = 0;
  // Marks up to `after` have been dealt with: deleted with their day, left by `skip`, or left to another process.
  let after = 0;
  for (let pass = 0; pass < (opts.passes ?? Infinity) && !opts.stopping?.(); pass++) {
    const read = await readMarks(db, runner, "rollup_dirty", after, toNumber(last.id), opts.batch);
    if (!read) break;
    after = read.after;
    await eachAppspace(db, read.days, opts, async (days, stopping) => {
      for (const { appspaceId, day, newest } of days) {
        if (stopping()) return;
        const outcome = opts.skip?.(appspaceId, day, newest)
          ? await leaveStale(db, runner, appspaceId, day, newest)
          : await refreshOneDay(db, runner, rollups, appspaceId, day, { ...opts, stopping });
        if (outcome === "refreshed") refreshed++;
      }
    });
  }
  return refreshed;
}

/**
 * Keeps a day stale with two marks, its oldest and its newest: the marks of a day written without pause do not pile
 * up while it waits, the newest tells whether it was written since (skip), and the oldest keeps the time the day
 * became stale (marked_at: the refresher's freshness metric).
 */
async function leaveStale(
  db: DataSource,
  runner: QueryRunner,
  appspaceId: number,
  day: string,
  newest: number,
): Promise<"skipped"> {
  const compact = async (q: Db | QueryRunner) => {
    const ofDay = sql`appspace_id = ${appspaceId} AND day = ${day}`;
    const [first] = await queryRows<{ oldest: unknown }>(q, sql`SELECT MIN(id) AS oldest FROM rollup_dirty WHERE ${ofDay}`);
    await queryRows(q, sql`DELETE FROM rollup_dirty WHERE ${ofDay} AND id > ${toNumber(first.oldest)} AND id < ${newest}`);
  };
  if (isMysql(db)) await compact(runner);
  else await withTransaction(db, compact);
  return "skipped";
}

/**
 * Recomputes one day in its own transaction; a day that fails stays stale (reports read it raw) without holding up the
 * others.
 */
async function refreshOneDay(
  db: DataSource,
  runner: QueryRunner,
  rollups: readonly DayRollup[],
  appspaceId: number,
  day: string,
  opts: RefreshOptions,
): Promise<"refreshed" | "failed" | "stopped"> {
  const toRefresh = { appspaceId, day, partEvents: opts.partEvents ?? PART_EVENTS, check: checkpoint(opts.stopping) };
  const timer = rollupRefreshDuration.startTimer();
  const startedAt = Date.now();
  try {
    await inTransaction(db, runner, em => refreshDay(em, rollups, toRefresh));
    timer();
    log.debug({ scope: "rollups", appspace: appspaceId, day, startedAt, durationMs: Date.now() - startedAt }, "day refreshed");
  } catch (err) {
    // Told to stop mid-day (a shutdown): rolled back, the day stays stale for the next refresher.
    if (err instanceof RefreshStopped) return "stopped";
    // Its transaction is not withTransaction's (which counts its own): a deadlock victim here counts too.
    if (driverError(err).code === "ER_LOCK_DEADLOCK") deadlocks.inc();
    reportFailure(db, "rollups", "day not refreshed", err, { appspace: appspaceId, day });
    opts.failed?.(appspaceId, day);
    return "failed";
  }
  opts.refreshed?.(appspaceId, day);
  return "refreshed";
}

/**
 * Computes the days named in a read model's own log (attribution's credits), as it is now (with the marks the days
 * just refreshed added), a day per transaction. A day that fails keeps its mark for a later pass.
 */
async function refreshFollowUp(
  db: DataSource,
  runner: QueryRunner,
  rollup: DayRollup,
  opts: RefreshOptions,
): Promise<void> {
  const followUp = rollup.followUp!;
  const [last] = await runner.query(`SELECT COALESCE(MAX(id), 0) AS id FROM ${followUp.log}`);
  for (let after = 0; ;) {
    const read = await readMarks(db, runner, followUp.log, after, toNumber(last.id), opts.batch);
    if (!read) return;
    after = read.after;
    await eachAppspace(db, read.days, opts, async (days, stopping) => {
      for (const { appspaceId, day } of days) {
        if (stopping()) return;
        try {
          await inTransaction(db, runner, em => followUp.refreshDay(em, appspaceId, day));
        } catch (err) {
          reportFailure(db, "rollups", `${rollup.name} not computed`, err, { appspace: appspaceId, day });
        }
      }
    });
  }
}

/**
 * Up to `batch` marks of a log of days (rollup_dirty, rollup_attribution_dirty) with ids in (after, last], as the days
 * they name (with the id of each day's newest mark) and the last id read; null when none is left.
 */
async function readMarks(db: DataSource, runner: QueryRunner, log: string, after: number, last: number, batch = 1000) {
  type Mark = { id: unknown; appspace_id: unknown; day: string };
  const read = (q: Db | QueryRunner) =>
    queryRows<Mark>(
      q,
      sql`SELECT id, appspace_id, day FROM ${raw(log)} WHERE id > ${after} AND id <= ${last} ORDER BY id LIMIT
        ${batch}`,
    );
  // On SQLite's shared connection, a read outside the queue could see another request's uncommitted marks.
  const entries = isMysql(db) ? await read(runner) : await withTransaction(db, read);
  if (entries.length === 0) return null;
  const days = new Map<string, { appspaceId: number; day: string; newest: number }>();
  for (const e of entries)
    days.set(`${e.appspace_id}|${e.day}`, { appspaceId: toNumber(e.appspace_id), day: e.day, newest: toNumber(e.id) });
  return { after: toNumber(entries.at(-1)!.id), days: [...days.values()] };
}

/**
 * fn in a transaction of its own: on MySQL the refresher's connection at READ COMMITTED; SQLite's transactions queue in
 * withTransaction.
 */
async function inTransaction(
  db: DataSource,
  runner: QueryRunner,
  fn: (em: EntityManager) => Promise<void>,
): Promise<void> {
  if (!isMysql(db)) return withTransaction(db, fn);
  await runner.startTransaction("READ COMMITTED");
  try {
    await fn(runner.manager);
    await runner.commitTransaction();
  } catch (err) {
    await runner.rollbackTransaction();
    throw err;
  }
}

/**
 * Thrown inside a day's refresh when the refresher is told to stop: the transaction rolls back, the day stays stale.
 */
class RefreshStopped extends Error {}

/**
 * Points between the steps of a day's refresh where it may give up (a busy day's refresh takes seconds at 10M events,
 * and a shutdown should not wait for it): throws RefreshStopped once `stopping` says so.
 */
function checkpoint(stopping: (() => boolean) | undefined): () => void {
  return () => {
    if (stopping?.()) throw new RefreshStopped("the refresher was told to stop");
  };
}

/**
 * Events of a day collected at once by default: a busier day is collected in parts, so that what is held stays small.
 */
const PART_EVENTS = 20_000;

interface DayToRefresh {
  appspaceId: number;
  day: string;
  /** Events collected at once (PART_EVENTS). */
  partEvents: number;
  check: () => void;
}

/**
 * Takes every mark of the day first, then recomputes it. Each statement of a
 * READ COMMITTED transaction reads what was committed when it starts, so the
 * recomputation sees the events of every mark it took (a mark commits with its
 * events); a writer committing after the delete leaves its mark for the next pass.
 */
async function refreshDay(
  db: EntityManager,
  rollups: readonly DayRollup[],
  { appspaceId, day, partEvents, check }: DayToRefresh,
): Promise<void> {
  await lockPeopleRollups(db, appspaceId, false);
  await queryRows(db, sql`DELETE FROM rollup_dirty WHERE appspace_id = ${appspaceId} AND day = ${day}`);
  // Everyone with an event that day, numbered once for every read model's sets.
  const numbers = new Map<string, number>();
  const refreshing: RefreshingDay = {
    db,
    appspaceId,
    day,
    check,
    numberPeople: people => numberPeople(db, appspaceId, people, numbers),
  };
  const work: DayWork[] = [];
  for (const rollup of rollups) {
    check();
    work.push(await rollup.refreshDay(refreshing));
  }
  await collectEvents(refreshing, work, partEvents);
  for (const w of work) {
    check();
    await w.finish?.();
  }
}

/**
 * The one pass over the day's events that read models of what people did share: read a part of the day's people
 * and cartIds at a time (a busy day in several parts), a page at a time, in time order.
 */
async function collectEvents(
  { db, appspaceId, day, check }: RefreshingDay,
  work: readonly DayWork[],
  partEvents: number,
): Promise<void> {
  const collectors = work.flatMap(w => (w.events ? [w.events] : []));
  if (collectors.length === 0) return;
  const { from, to } = periodOf(day, day);
  const [count] = await queryRows<{ n: unknown }>(
    db,
    sql`SELECT COUNT(*) AS n FROM events
    WHERE appspace_id = ${appspaceId} AND occurred_at >= ${from} AND occurred_at < ${to}`,
  );
  const parts = Math.max(1, Math.ceil(toNumber(count.n) / partEvents));
  for (let index = 0; index < parts; index++) {
    check();
    // A checkpoint per page too: a part of a busy day takes seconds, longer than a shutdown should wait.
    const visit = (page: DayEvent[]) => {
      check();
      collectors.forEach(c => c.add(page));
    };
    await eachDayEvents(db, appspaceId, [day], null, visit, { part: { index, of: parts } });
    for (const c of collectors) await c.endPart();
  }
}

/**
 * Removes what the read models hold of these people (a deletion) on `days`, in the caller's transaction; `days`
 * null: on every day, and their numbers last, once every day that holds those numbers is marked. Call
 * lockPeopleRollups first in the transaction.
 */
export async function forgetInRollups(
  db: EntityManager,
  rollups: readonly DayRollup[],
  appspaceId: number,
  people: readonly string[],
  days: readonly string[] | null,
): Promise<void> {
  if (days !== null && days.length === 0) return;
  const unique = days === null ? null : [...new Set(days)];
  for (const rollup of rollups) await rollup.forget(db, appspaceId, people, unique);
  if (days === null) await forgetPeople(db, appspaceId, people);
}

/** Drops every read model's rows of days before `oldestDay` (retention), in the caller's transaction. */
export async function purgeRollupsBefore(
  db: EntityManager,
  rollups: readonly DayRollup[],
  appspaceId: number,
  oldestDay: string,
): Promise<void> {
  await lockPeopleRollups(db, appspaceId, true);
  for (const rollup of rollups) await rollup.purgeBefore(db, appspaceId, oldestDay);
}

/**
 * Keeps rollups current in the background: a pass every `pollMs`, skipped while one runs here; the days of an appspace
 * another server is refreshing are left to it. A stale day is recomputed once no mark has come for it for `quietMs`,
 * or once it has waited `maxWaitMs`.
 * Reports read a stale day from raw events whatever its rollups hold, so recomputing a day still being written (today,
 * under steady ingest, is marked again within milliseconds) only takes database time from ingest, and memory: it waits,
 * with one mark.
 */
export class RollupRefresher extends PeriodicTask {
  constructor(
    db: DataSource,
    rollups: readonly DayRollup[],
    pollMs = 1000,
    quietMs = 10_000,
    maxWaitMs = 600_000,
    clock = () => performance.now(),
  ) {
    /**
     * Per stale day seen ("appspace|day"): its newest mark, when that changed, when the day was first seen stale, and
     * last seen.
     */
    const seen = new Map<string, { newest: number; changedAt: number; since: number; lastSeen: number }>();
    super(db, "rollups", pollMs, async stopping => {
      // A day not seen for a while (refreshed by another server) starts over when it is marked again.
      for (const [key, s] of seen) if (clock() - s.lastSeen >= quietMs) seen.delete(key);
      const started = performance.now();
      const days = await refreshStaleDays(db, rollups, {
        stopping,
        skip: (appspaceId, day, newest) => {
          const [key, now] = [`${appspaceId}|${day}`, clock()];
          const s = seen.get(key);
          if (!s) seen.set(key, { newest, changedAt: now, since: now, lastSeen: now });
          else Object.assign(s, newest > s.newest ? { newest, changedAt: now, lastSeen: now } : { lastSeen: now });
          const { changedAt, since } = seen.get(key)!;
          return now - changedAt < quietMs && now - since < maxWaitMs;
        },
        refreshed: (appspaceId, day) => seen.delete(`${appspaceId}|${day}`),
        // Tried again once quiet, as if just marked.
        failed: (appspaceId, day) => seen.delete(`${appspaceId}|${day}`),
      });
      const durationMs = Math.round(performance.now() - started);
      if (days > 0) log.info({ scope: "rollups", days, durationMs }, "stale days refreshed");
    });
  }
}
