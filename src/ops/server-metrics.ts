import { Gauge, Registry } from "prom-client";
import { DataSource } from "typeorm";
import { dialectOf } from "../db/dialect";
import { isMysql, toNumber } from "../db/sql";
import { collectDefaultMetrics, processRegistry } from "../metrics";
import { within } from "../within";
import { READY_TIMEOUT_MS } from "./health";

/*
 * The gauges of one server, read when Prometheus scrapes: its database pool, the rollup refresher's backlog and the
 * deletion queue. They live in the server's own registry (a process may run several servers: the tests), merged with
 * the process's counters at each scrape. A database that does not answer leaves them at their last value; the scrape
 * itself never fails for it.
 */

/** mysql2's pool, as TypeORM's MySQL driver holds it: its connections, those idle, and the requests waiting for one. */
interface Mysql2Pool {
  _allConnections: { length: number };
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
  config: { connectionLimit: number };
}

function poolOf(db: DataSource): Mysql2Pool | null {
  return isMysql(db) ? ((db.driver as unknown as { pool?: Mysql2Pool }).pool ?? null) : null;
}

const DELETION_STATUSES = ["PENDING", "RUNNING", "DONE", "FAILED"];

/** The backlog of the refresher: stale days (appspace and day) and the age of the oldest mark, in seconds. */
async function staleDays(db: DataSource): Promise<{ days: number; oldestSeconds: number }> {
  const age = dialectOf(db).mysql
    ? "UNIX_TIMESTAMP() - UNIX_TIMESTAMP(MIN(marked_at))"
    : "(julianday('now') - julianday(MIN(marked_at))) * 86400";
  const [row] = await db.query(`SELECT COUNT(*) AS days, (SELECT ${age} FROM rollup_dirty) AS oldest FROM (SELECT DISTINCT appspace_id, day FROM rollup_dirty) stale`);
  return { days: toNumber(row.days), oldestSeconds: Math.max(0, Math.round(toNumber(row.oldest ?? 0))) };
}

function poolGauges(db: DataSource, registers: Registry[]): void {
  const pool = () => poolOf(db);
  new Gauge({
    name: "db_pool_connections_in_use", help: "Database connections serving a query or transaction (MySQL).", registers,
    collect() { const p = pool(); this.set(p ? p._allConnections.length - p._freeConnections.length : 0); },
  });
  new Gauge({
    name: "db_pool_requests_waiting", help: "Queries and transactions waiting for a free database connection (MySQL).", registers,
    collect() { this.set(pool()?._connectionQueue.length ?? 0); },
  });
  new Gauge({
    name: "db_pool_connections_max", help: "The pool's size (MySQL; SQLite has one connection).", registers,
    collect() { this.set(pool()?.config.connectionLimit ?? 1); },
  });
}

/**
 * One read of the database for the backlog gauges of a scrape: a scrape starts the gauges' collects together, and
 * they share the read in flight; the next scrape reads again.
 */
function backlogReader(db: DataSource): () => Promise<Backlog | null> {
  let inFlight: Promise<Backlog | null> | null = null;
  const read = async (): Promise<Backlog | null> => {
    try {
      // A scrape answers within about a second whatever the database does.
      return await within((async () => {
        const stale = await staleDays(db);
        const rows: { status: string; n: unknown }[] = await db.query("SELECT status, COUNT(*) AS n FROM deletion_requests GROUP BY status");
        return { stale, deletions: new Map(rows.map(r => [r.status, toNumber(r.n)])) };
      })(), READY_TIMEOUT_MS);
    } catch {
      return null;
    }
  };
  return () => (inFlight ??= read().finally(() => (inFlight = null)));
}

interface Backlog {
  stale: { days: number; oldestSeconds: number };
  deletions: Map<string, number>;
}

/**
 * The refresher's backlog and the deletion queue, read at each scrape (a database that does not answer leaves them at
 * their last values, and ops_gauges_read_ok at 0). They are the database's, the same in every process: under a
 * cluster their largest is reported, not their sum.
 */
function backlogGauges(db: DataSource, registers: Registry[]): void {
  const backlog = backlogReader(db);
  const aggregator = "max" as const;
  new Gauge({
    name: "rollup_stale_days", help: "Days (of an appspace) waiting for the rollup refresher: reports read them from raw events.", registers, aggregator,
    async collect() { const b = await backlog(); if (b) this.set(b.stale.days); },
  });
  new Gauge({
    name: "rollup_oldest_stale_seconds", help: "Age of the oldest stale-day mark waiting: how far the rollups are behind.", registers, aggregator,
    async collect() { const b = await backlog(); if (b) this.set(b.stale.oldestSeconds); },
  });
  new Gauge({
    name: "deletion_requests", help: "GDPR deletion requests by status.", labelNames: ["status"] as const, registers, aggregator,
    async collect() { const b = await backlog(); if (b) for (const status of DELETION_STATUSES) this.set({ status }, b.deletions.get(status) ?? 0); },
  });
  new Gauge({
    name: "ops_gauges_read_ok", help: "1 when the gauges read off the database were read at this scrape, 0 when it did not answer (they keep their last values).", registers, aggregator: "min",
    async collect() { this.set((await backlog()) ? 1 : 0); },
  });
}

/**
 * The server's gauges, in a registry of its own (a process may run several servers: the tests), merged with the
 * process's counters at each scrape. Under a cluster (WORKERS), the primary sums the workers' registries instead.
 */
export function serverMetrics(db: DataSource): { text(): Promise<string>; contentType: string; registries: Registry[] } {
  collectDefaultMetrics();
  const own = new Registry();
  poolGauges(db, [own]);
  backlogGauges(db, [own]);
  const merged = Registry.merge([processRegistry, own]);
  return { text: () => merged.metrics(), contentType: merged.contentType, registries: [processRegistry, own] };
}
