import { randomUUID } from "node:crypto";
import os from "node:os";
import { DataSource } from "typeorm";
import { queryRows, raw, sql } from "./query";
import { ConflictValues, dialectOf } from "./dialect";
import { isMysql, withTransaction } from "./sql";

/*
 * Leases: claims on units of background work (an appspace's stale days, an appspace's purge), kept in work_leases, so
 * that the server processes of one database share that work and never do one unit at once.
 *
 * A lease lapses `leaseMs` after it was taken or last renewed, by the database's clock (processes' clocks may differ):
 * a process that died or hangs loses its units then, and another takes them over. While it works, a holder renews its
 * lease every third of that time. Once its last renewal is older than the lease (it hung, or could not reach the
 * database), or a renewal finds the unit another's, `lost()` says so and it stops at its next checkpoint. Every claim
 * has a holder of its own, so two claims of one unit in one process exclude each other too. Works the same on SQLite
 * (one process: the background tasks and the commands).
 */

/** How long a claim lasts unless renewed: a dead process's units wait this long for another. */
export const LEASE_MS = 30_000;

export interface Lease {
  readonly unit: string;
  /** True once another holder may have the unit (this one did not renew in time, or found it taken): stop working on it. */
  lost(): boolean;
  /** Renews the lease now (it does so on its own every third of the lease); false once another holder has the unit. */
  renew(): Promise<boolean>;
  /** Gives the unit up (at once, for the next claimer) and stops renewing. */
  release(): Promise<void>;
}

export interface ClaimOptions {
  /** How long the claim lasts unless renewed (LEASE_MS). */
  leaseMs?: number;
  /** How long to wait for the unit when another holds it (default: not at all). */
  waitMs?: number;
}

/** Claims `unit` for a new holder: the lease, or null when another holds it (for longer than `waitMs`). */
export async function claim(db: DataSource, unit: string, opts: ClaimOptions = {}): Promise<Lease | null> {
  const leaseMs = opts.leaseMs ?? LEASE_MS;
  const holder = `${os.hostname().slice(0, 40)}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const waitUntil = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    const sentAt = Date.now();
    if (await takeOrRenew(db, unit, holder, leaseMs)) return new HeldLease(db, unit, holder, leaseMs, sentAt);
    if (Date.now() >= waitUntil) return null;
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

/** Runs `fn` holding `unit`; returns `busy` without running it when another holds the unit. */
export async function withLease<T>(
  db: DataSource,
  unit: string,
  busy: T,
  fn: (lease: Lease) => Promise<T>,
  opts: ClaimOptions = {},
): Promise<T> {
  const lease = await claim(db, unit, opts);
  if (!lease) return busy;
  try {
    return await fn(lease);
  } finally {
    await lease.release();
  }
}

class HeldLease implements Lease {
  private taken = false;
  private released = false;
  /** The renewal in flight, which release() waits for (a renewal landing after the release would take the unit back). */
  private renewing: Promise<boolean> | null = null;
  /**
   * Until when the lease is surely held, by this process's clock: when the last successful claim or renewal was sent,
   * plus the lease. Past it (the process hung, or its renewals waited), another may hold the unit: lost. On SQLite there
   * is one process, and a renewal waits behind the transaction in flight: no deadline there.
   */
  private heldUntil: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: DataSource,
    readonly unit: string,
    private readonly holder: string,
    private readonly leaseMs: number,
    sentAt: number,
  ) {
    this.heldUntil = isMysql(db) ? sentAt + leaseMs : Infinity;
    // A renewal that fails (the database is down) is tried again at the next tick: the deadline says when it is lost.
    this.timer = setInterval(() => this.renew().catch(() => undefined), Math.max(10, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  lost(): boolean {
    if (!this.taken && Date.now() > this.heldUntil) this.taken = true;
    return this.taken;
  }

  renew(): Promise<boolean> {
    if (this.released || this.lost()) return Promise.resolve(false);
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = null));
    return this.renewing;
  }

  private async renewOnce(): Promise<boolean> {
    const sentAt = Date.now();
    const held = await takeOrRenew(this.db, this.unit, this.holder, this.leaseMs);
    if (!held) this.taken = true;
    else if (this.heldUntil !== Infinity) this.heldUntil = sentAt + this.leaseMs;
    return held && !this.lost();
  }

  async release(): Promise<void> {
    this.released = true;
    clearInterval(this.timer);
    await this.renewing?.catch(() => undefined);
    await withTransaction(this.db, em =>
      queryRows(em, sql`DELETE FROM work_leases WHERE unit = ${this.unit} AND holder = ${this.holder}`),
    );
  }
}

/**
 * One statement takes the unit when it is free or its lease has lapsed, or renews it when `holder` has it; then reads
 * who holds it, in the same transaction. True when `holder` does.
 */
async function takeOrRenew(db: DataSource, unit: string, holder: string, leaseMs: number): Promise<boolean> {
  return withTransaction(db, async em => {
    const dialect = dialectOf(db);
    // Both assignments test the same condition: right whether a database applies them left to right (MySQL: holder is
    // already the new one for the second, and equals the incoming one exactly when the unit was taken) or all against
    // the row as it was (SQLite, TiDB's UPDATE).
    const takeable = (values: ConflictValues) =>
      `${values("expires_at").stored} <= ${dialect.now} OR ${values("holder").stored} = ${values("holder").incoming}`;
    const when = (stored: string, incoming: string, values: ConflictValues) =>
      `CASE WHEN ${takeable(values)} THEN ${incoming} ELSE ${stored} END`;
    const upsert = dialect.onConflict("work_leases", ["unit"], { holder: when, expires_at: when });
    await queryRows(em, sql`INSERT INTO work_leases (unit, holder, expires_at)
      VALUES (${unit}, ${holder}, ${dialect.msFromNow(leaseMs)}) ${raw(upsert)}`);
    const [row] = await queryRows<{ holder: string }>(em, sql`SELECT holder FROM work_leases WHERE unit = ${unit}`);
    return row?.holder === holder;
  });
}
