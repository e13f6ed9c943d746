import { randomUUID } from "node:crypto";
import os from "node:os";
import { DataSource } from "typeorm";
import { queryRows, raw, sql } from "./query";
import { ConflictValues, dialectOf } from "./dialect";
import { withTransaction } from "./sql";

/*
 * Leases: claims on units of background work (an appspace's stale days, an appspace's purge), kept in work_leases, so
 * that the server processes of one database share that work and never do one unit at once.
 *
 * A lease lapses `leaseMs` after it was taken or last renewed, by the database's clock (processes' clocks may differ):
 * a process that died or hangs loses its units then, and another takes them over. While it works, a holder renews its
 * lease every third of that time; finding it taken by another (it hung for longer than the lease), it is told through
 * `lost()` and stops. Every claim has a holder of its own, so two claims of one unit in one process exclude each other
 * too. Works the same on SQLite (one process: the background tasks and the commands).
 */

/** How long a claim lasts unless renewed: a dead process's units wait this long for another. */
export const LEASE_MS = 30_000;

export interface Lease {
  readonly unit: string;
  /** True once another holder has taken the unit (this one failed to renew in time): stop working on it. */
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
  while (!(await takeOrRenew(db, unit, holder, leaseMs))) {
    if (Date.now() >= waitUntil) return null;
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  return new HeldLease(db, unit, holder, leaseMs);
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
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: DataSource,
    readonly unit: string,
    private readonly holder: string,
    private readonly leaseMs: number,
  ) {
    // A renewal that fails (the database is down) is tried again at the next tick: only another holder loses it.
    this.timer = setInterval(() => this.renew().catch(() => undefined), Math.max(10, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  lost(): boolean {
    return this.taken;
  }

  async renew(): Promise<boolean> {
    if (!this.taken) this.taken = !(await takeOrRenew(this.db, this.unit, this.holder, this.leaseMs));
    return !this.taken;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await queryRows(this.db, sql`DELETE FROM work_leases WHERE unit = ${this.unit} AND holder = ${this.holder}`);
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
