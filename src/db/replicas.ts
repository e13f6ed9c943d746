import { DataSource } from "typeorm";
import { createDataSource } from "../data-source";
import { describeFailure, log } from "../log";
import { replicaLag, replicaUsable } from "../metrics";
import { within } from "../within";
import { isConnectionFailure } from "./failures";
import { fromDbTime, toNumber } from "./sql";

/*
 * Read replicas (DATABASE_READ_URLS): reports, journeys and stats read from MySQL/MariaDB replicas of the primary,
 * round robin, so that their scans leave the primary to writes. Everything that must read its own writes (ingestion,
 * deletion, keys, the refresher, a deletion's status) stays on the primary.
 *
 * Every second the primary's heartbeat row gets the database's time, and each replica is asked how far behind it is
 * (SHOW REPLICA STATUS, or SHOW SLAVE STATUS on servers before MariaDB 10.5 / MySQL 8.0.22). A replica that is not
 * replicating, more than `maxLagSeconds` behind, or unreachable is skipped until it has caught up; with none left, the
 * primary serves. A read from a replica first reads the heartbeat it has applied: everything the primary committed
 * before that time is there (a replica applies commits in order), so the report is exact as of it (`dataAsOf`). On the
 * primary, `dataAsOf` is the time the read starts.
 */

/** Where a request's reads go, and the time up to which what they read is complete. */
export interface ReadSource {
  db: DataSource;
  /** The replica's number (1 for the first of DATABASE_READ_URLS), or null for the primary. */
  replica: number | null;
  dataAsOf: Date;
}

/** How often the heartbeat is written and the replicas' lag read. */
const CHECK_MS = 1000;

/** How long a replica may take to answer a check or a read of its heartbeat before it counts as unreachable. */
const ANSWER_MS = 2000;

interface Replica {
  readonly number: number;
  readonly db: DataSource;
  /** Why it is skipped ("lagging", "not replicating", "unreachable"), or null while it serves. */
  skipped: string | null;
  /** Its pool's start, in flight or done (tried again at the next check when it failed: the replica was down). */
  opening: Promise<unknown> | null;
}

export class ReadReplicas {
  private readonly replicas: Replica[];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;

  /** `urls` empty: every read goes to the primary. */
  constructor(
    private readonly primary: DataSource,
    urls: readonly string[],
    private readonly maxLagSeconds: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.replicas = urls.map((url, i) => ({
      number: i + 1,
      // A pool each as large as the primary's, not migrated (the primary's schema replicates); unreachable fails fast.
      db: createDataSource({ databaseUrl: url, sqlitePath: "", connectTimeoutMs: 2000 }),
      skipped: "not checked yet",
      opening: null,
    }));
  }

  /** Whether there are replicas to read from at all. */
  get enabled(): boolean {
    return this.replicas.length > 0;
  }

  /** Starts the heartbeat and the checks (the first at once); resolves after the first check. */
  async start(): Promise<void> {
    if (this.replicas.length === 0) return;
    this.timer = setInterval(() => void this.check(), CHECK_MS);
    this.timer.unref();
    await this.check();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checking;
    // A pool still opening (a check gave up waiting) is waited for, so that none is left open.
    await Promise.all(this.replicas.map(r => r.opening?.catch(() => undefined)));
    await Promise.all(this.replicas.map(r => (r.db.isInitialized ? r.db.destroy() : undefined)));
  }

  /**
   * The next replica that serves (round robin) with the heartbeat it has applied, or the primary with the time now.
   * A replica that fails to answer is skipped until a check finds it well, and the primary serves this read.
   */
  async readSource(): Promise<ReadSource> {
    for (let tried = 0; tried < this.replicas.length; tried++) {
      const replica = this.replicas[this.next++ % this.replicas.length];
      if (replica.skipped) continue;
      try {
        return { db: replica.db, replica: replica.number, dataAsOf: await within(heartbeatOf(replica.db), ANSWER_MS) };
      } catch (err) {
        this.skip(replica, "unreachable", err);
      }
    }
    return { db: this.primary, replica: null, dataAsOf: this.now() };
  }

  /**
   * A request's read from replica `number` failed: one that can no longer be reached is skipped until a check finds it
   * well. True when the failure was the replica's connection (false: the caller's to report).
   */
  readFailed(number: number, err: unknown): boolean {
    const replica = this.replicas[number - 1];
    if (!replica || !isConnectionFailure(err)) return false;
    this.skip(replica, "unreachable", err);
    return true;
  }

  private check(): Promise<void> {
    this.checking ??= (async () => {
      const beatAt = await within(beat(this.primary), ANSWER_MS).catch(() => null);
      await Promise.all(this.replicas.map(r => this.checkReplica(r, beatAt)));
    })().finally(() => (this.checking = null));
    return this.checking;
  }

  /**
   * How far behind the replica is: the larger of what its replication status says and how old the heartbeat it has
   * applied is against the one just written (the status says 0 for a while when the replica has silently lost its
   * primary; the heartbeat does not). null when it is not replicating.
   */
  private async lagOfReplica(replica: Replica, beatAt: Date | null): Promise<number | null> {
    replica.opening ??= replica.db.initialize().catch(err => {
      replica.opening = null;
      throw err;
    });
    await within(replica.opening, ANSWER_MS);
    const [status, applied] = await within(Promise.all([lagOf(replica.db), heartbeatOf(replica.db)]), ANSWER_MS);
    if (status === null) return null;
    return beatAt ? Math.max(status, (beatAt.getTime() - applied.getTime()) / 1000) : status;
  }

  private async checkReplica(replica: Replica, beatAt: Date | null): Promise<void> {
    try {
      const lag = await this.lagOfReplica(replica, beatAt);
      replicaLag.set({ replica: String(replica.number) }, lag ?? -1);
      if (lag === null) this.skip(replica, "not replicating");
      else if (lag > this.maxLagSeconds) this.skip(replica, "lagging", undefined, lag);
      else this.use(replica, lag);
    } catch (err) {
      replicaLag.set({ replica: String(replica.number) }, -1);
      this.skip(replica, "unreachable", err);
    }
  }

  private use(replica: Replica, lag: number): void {
    replicaUsable.set({ replica: String(replica.number) }, 1);
    if (replica.skipped === null) return;
    replica.skipped = null;
    log.info({ scope: "replicas", replica: replica.number, lagSeconds: lag }, "replica serves reads");
  }

  private skip(replica: Replica, why: string, err?: unknown, lag?: number): void {
    replicaUsable.set({ replica: String(replica.number) }, 0);
    if (replica.skipped === why) return;
    replica.skipped = why;
    const detail = { ...(err ? { reason: describeFailure(err) } : {}), ...(lag !== undefined ? { lagSeconds: lag, maxLagSeconds: this.maxLagSeconds } : {}) };
    log.warn({ scope: "replicas", replica: replica.number, why, ...detail }, "replica skipped: reads go to the others or the primary");
  }
}

/** Writes the database's time into the heartbeat row (on the primary; it replicates); returns that time. */
async function beat(primary: DataSource): Promise<Date> {
  await primary.query("UPDATE replication_heartbeat SET beat_at = UTC_TIMESTAMP(3) WHERE id = 1");
  return heartbeatOf(primary);
}

/** The primary's time of the last heartbeat this database holds (on a replica: has applied). */
async function heartbeatOf(replica: DataSource): Promise<Date> {
  const [row] = await replica.query("SELECT beat_at FROM replication_heartbeat WHERE id = 1");
  return fromDbTime(row.beat_at);
}

/**
 * Seconds the replica is behind its primary, from its replication status; null when it is not replicating (its
 * threads stopped, or it is no replica). MySQL 8.0.22+ names the column Seconds_Behind_Source; MariaDB keeps
 * Seconds_Behind_Master under either statement.
 */
async function lagOf(replica: DataSource): Promise<number | null> {
  let rows: Record<string, unknown>[];
  try {
    rows = await replica.query("SHOW REPLICA STATUS");
  } catch {
    rows = await replica.query("SHOW SLAVE STATUS");
  }
  const status = rows[0];
  if (!status) return null;
  const lag = status.Seconds_Behind_Source ?? status.Seconds_Behind_Master;
  return lag === null || lag === undefined ? null : toNumber(lag);
}
