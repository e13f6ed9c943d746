import { Gauge, Registry } from "prom-client";
import { DataSource } from "typeorm";
import { dialectOf } from "../db/dialect";
import { isMysql, toNumber } from "../db/sql";
import { collectDefaultMetrics, processRegistry } from "../metrics";
import { READY_TIMEOUT_MS, within } from "./health";

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

/** The refresher's backlog and the deletion queue, set from one read of the database before each scrape. */
function backlogGauges(db: DataSource, registers: Registry[]): () => Promise<void> {
  const stale = new Gauge({ name: "rollup_stale_days", help: "Days (of an appspace) waiting for the rollup refresher: reports read them from raw events.", registers });
  const oldest = new Gauge({ name: "rollup_oldest_stale_seconds", help: "Age of the oldest stale-day mark waiting: how far the rollups are behind.", registers });
  const deletions = new Gauge({ name: "deletion_requests", help: "GDPR deletion requests by status.", labelNames: ["status"] as const, registers });
  const readOk = new Gauge({ name: "ops_gauges_read_ok", help: "1 when the gauges above were read off the database at this scrape, 0 when it did not answer (they keep their last values).", registers });
  const read = async () => {
    const backlog = await staleDays(db);
    const rows: { status: string; n: unknown }[] = await db.query("SELECT status, COUNT(*) AS n FROM deletion_requests GROUP BY status");
    return { backlog, rows };
  };
  return async () => {
    try {
      // A scrape answers within about a second whatever the database does.
      const { backlog, rows } = await within(read(), READY_TIMEOUT_MS);
      stale.set(backlog.days);
      oldest.set(backlog.oldestSeconds);
      for (const status of DELETION_STATUSES) deletions.set({ status }, toNumber(rows.find(r => r.status === status)?.n ?? 0));
      readOk.set(1);
    } catch {
      readOk.set(0);
    }
  };
}

/** The server's gauges in a registry of its own; text() reads the database's, then merges them with the process's counters. */
export function serverMetrics(db: DataSource): { text(): Promise<string>; contentType: string } {
  collectDefaultMetrics();
  const own = new Registry();
  poolGauges(db, [own]);
  const readBacklog = backlogGauges(db, [own]);
  const merged = Registry.merge([processRegistry, own]);
  return {
    async text() {
      await readBacklog();
      return merged.metrics();
    },
    contentType: merged.contentType,
  };
}
