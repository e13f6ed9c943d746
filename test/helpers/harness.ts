import fs from "node:fs";
import path from "node:path";
import { DataSource, Logger } from "typeorm";
import { createAppspace, CreatedAppspace, NewAppspace } from "../../src/appspaces/appspace.service";
import { loadRates, OxrFile } from "../../src/ingest/rates/rates.service";
import { createServer, RunningServer, ServerOptions } from "../../src/server";
import { refreshRollups } from "../../src/read-models";
import { DbTarget, migratedDatabase, Reads } from "./databases";

/** Counts the SQL statements the app sends (transaction control excluded). */
export class StatementCounter implements Logger {
  statements: string[] = [];
  logQuery(query: string) {
    if (!/^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|SAVEPOINT|RELEASE)/i.test(query.trim())) this.statements.push(query);
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
  reset() {
    this.statements = [];
  }
}

export interface GqlResponse<T = Record<string, any>> {
  status: number;
  body: { data?: T | null; errors?: { message: string; extensions?: Record<string, any> }[] };
}

export interface Harness {
  db: DataSource;
  url: string;
  sql: StatementCounter;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GqlResponse<T>>;
  post(body: string, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
  appspace(input?: Partial<NewAppspace>): Promise<CreatedAppspace>;
  count(table: string, where?: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

export const TEST_RATES: OxrFile = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "rates-2026-01-01.json"), "utf8"));

/** A real server on a random port over a fresh database of the target, with the test rates loaded; `now` pins its clock. */
export async function startHarness(target: DbTarget, extraRates: OxrFile[] = [], now?: () => Date, options: ServerOptions = {}): Promise<Harness> {
  const sql = new StatementCounter();
  const { db, drop } = await migratedDatabase(target, sql);
  for (const rates of [TEST_RATES, ...extraRates]) await loadRates(db, rates);
  // The rollup refresher waits unless a test asks for it, and the deletion worker looks for work only when a request
  // kicks it: their statements on a timer would mix with those the tests count.
  const server = await createServer(db, { now, rollupRefreshMs: 3_600_000, ...options, deletion: { pollMs: 3_600_000, ...options.deletion } });
  const running: RunningServer = await server.listen(0, "127.0.0.1");

  const post = async (body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(running.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    return { status: res.status, text: await res.text() };
  };

  return {
    db,
    url: running.url,
    sql,
    async gql(query, variables = {}, key) {
      const res = await post(JSON.stringify({ query, variables }), key ? { authorization: `Bearer ${key}` } : {});
      return { status: res.status, body: JSON.parse(res.text) };
    },
    post,
    appspace: input => createAppspace(db, { name: "shop", ...input }),
    async count(table, where = "1 = 1", params = []) {
      const [row] = await db.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params);
      return Number(row.n);
    },
    async close() {
      await running.stop();
      await db.destroy();
      await drop();
    },
  };
}

/**
 * Makes the reports of a suite read its fixture as `reads` says: "raw events" leaves the days stale (reports compute
 * them from events), "rollups" runs the refresher first, so that every day is read from the rollup tables.
 */
export async function settleReads(h: Harness, reads: Reads): Promise<void> {
  if (reads === "rollups") {
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_dirty")).toBe(0);
  } else {
    expect(await h.count("rollup_dirty")).toBeGreaterThan(0);
  }
}
