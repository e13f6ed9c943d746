import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import { Logger } from "typeorm";
import { createAppspace, createKey, updateSettings } from "../appspaces/appspace.service";
import { parseFlags } from "../cli";
import { createDataSource } from "../data-source";
import { multiRowInsert } from "../db/sql";
import { EVENT_COLUMNS, ITEM_COLUMNS } from "../events/columns";
import { ensureRates } from "../ingest/rates/rates.service";
import { refreshRollups } from "../read-models";
import { createServer } from "../server";
import { log } from "../log";
import { generate } from "./generate";
import { benchEvents, rawRows } from "./rows";
import { Failures, load, percentile, post, REPORTS, rssOf, scalingSectionOf, spawnReady, timed, TRACK_EVENT, TRACK_EVENTS } from "./measure";

/*
 * npm run bench -- [--sizes 1000000,10000000] [--seconds 60] [--runs 20] [--budget 60] [--reports overview,funnel] [--fresh]
 *                   [--workers 2]   (the server as WORKERS=2 runs it: node:cluster workers sharing its port)
 *
 * On MariaDB/MySQL from DATABASE_URL (default mysql://root@127.0.0.1:3306/analytics_bench,
 * which it drops and recreates). The server runs as `npm start` does, in a process of
 * its own; the load comes from this one. Every figure is set against a baseline
 * measured in the same run, and the table is written to BENCHMARKS.md.
 */

/** Records the SQL a server in this process sends: the raw statements of a report become the plain-SQL baseline. */
class Recorder implements Logger {
  statements: [string, unknown[]][] = [];
  /** Off while data is generated: it would keep every row. */
  on = false;
  logQuery(query: string, parameters?: unknown[]) {
    if (!this.on) return;
    // Background work (the deletion worker, the rollup refresher) and authentication are not the report's.
    if (/^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|SET TRANSACTION|SELECT VERSION|SELECT DATABASE)|deletion_requests|rollup_dirty ORDER BY|work_leases|api_keys|FROM `?appspaces/i.test(query.trim())) return;
    this.statements.push([query, parameters ?? []]);
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

async function main() {
  // The baselines' servers run in this process: their request lines would fill the report. The server measured, a
  // process of its own, logs as in production.
  log.level = "warn";
  const flags = parseFlags(process.argv.slice(2));
  const sizes = String(flags.sizes ?? "1000000,10000000").split(",").filter(Boolean).map(Number);
  const seconds = Number(flags.seconds ?? 60);
  const runs = Number(flags.runs ?? 20);
  const budget = Number(flags.budget ?? 60);
  const only = typeof flags.reports === "string" ? flags.reports.split(",") : null;
  const workers = String(flags.workers ?? "1");
  const url = new URL(process.env.DATABASE_URL || "mysql://root@127.0.0.1:3306/analytics_bench");
  const dbName = url.pathname.slice(1);
  const admin = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
  if (flags.fresh) await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${dbName}\` CHARACTER SET utf8mb4`);
  await admin.end();

  const recorder = new Recorder();
  const db = createDataSource({ databaseUrl: url.toString(), sqlitePath: "", logger: recorder });
  await db.initialize();
  await db.runMigrations();
  await ensureRates(db);
  const pool = mysql.createPool({ uri: url.toString(), connectionLimit: 16, timezone: "Z" });
  // The ingest load's appspaces are scratch: left behind, a run's million events would wait for the next run's
  // refresh and crowd the datasets out of the buffer pool.
  await dropScratch(pool);

  const DATASET_RETENTION_DAYS = 3650;
  /** The appspace of one data size: generated once (named when complete), kept for later runs; --fresh starts over. */
  const dataset = async (size: number) => {
    const name = `bench-${size}`;
    const [found] = (await pool.query("SELECT id, name FROM appspaces WHERE name = ? OR name = ?", [name, `${name}-partial`])) as unknown as [{ id: number; name: string }[]];
    const complete = found.find(f => f.name === name);
    let appspaceId = complete?.id ?? found[0]?.id;
    if (!complete) {
      appspaceId ??= (await createAppspace(db, { name: `${name}-partial`, currency: "EUR", retentionDays: DATASET_RETENTION_DAYS })).appspaceId;
      // A run stopped half-way is resumed: the rest comes from another seed (people and orders are named after it).
      const [counted] = (await pool.query("SELECT COUNT(*) AS n FROM events WHERE appspace_id = ?", [appspaceId])) as unknown as [{ n: number }[]];
      const t = Date.now();
      await generate(db, appspaceId, { events: size - Number(counted[0].n), seed: size + Number(counted[0].n) });
      console.error(`generated ${size} events in ${Math.round((Date.now() - t) / 1000)} s`);
      await pool.query("UPDATE appspaces SET name = ? WHERE id = ?", [name, appspaceId]);
    }
    // Kept whole on later days too: the server's retention purge must not shrink a dataset (those of earlier versions kept 400 days).
    await pool.query("UPDATE appspaces SET retention_days = ? WHERE id = ?", [DATASET_RETENTION_DAYS, appspaceId]);
    const t = Date.now();
    const days = await refreshRollups(db, { waitSeconds: 3600 });
    console.error(`refreshed the rollups of ${days} days in ${Math.round((Date.now() - t) / 1000)} s`);
    return { appspaceId, secretKey: (await createKey(db, appspaceId, "secret")).key };
  };

  const datasets: { size: number; appspaceId: number; secretKey: string }[] = [];
  for (const size of sizes) datasets.push({ size, ...(await dataset(size)) });

  // Under WORKERS the port is fixed (PORT 0 would give each worker one of its own) and the primary's metrics need one.
  const clustered = workers !== "1" ? { WORKERS: workers, PORT: "4791", METRICS_PORT: "4792" } : {};
  const { child: server, match } = await spawnReady("src/index.ts", { DATABASE_URL: url.toString(), PORT: "0", NODE_ENV: "production", ...clustered }, /ready at (http:\/\/\S+?\/graphql)/);
  const serverUrl = match[1];
  const lines: string[] = [];
  const row = (...cells: (string | number)[]) => lines.push(`| ${cells.join(" | ")} |`);
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));
  const ratio = (a: number, b: number) => `${Math.round((100 * a) / b)} %`;

  // Reports at each size: p50/p95 over HTTP, against the plain SQL computing the same answer from raw events:
  // the statements a server reading no rollups runs for that report, replayed through mysql2.
  const rawServer = await (await createServer(db, { reportsFromRollups: false, rollupRefreshMs: 3_600_000 })).listen(0, "127.0.0.1");
  const rollupServer = await (await createServer(db, { rollupRefreshMs: 3_600_000 })).listen(0, "127.0.0.1");
  const statementsOf = async (url: string, key: string, query: string) => {
    recorder.statements = [];
    recorder.on = true;
    await post(url, key, { query });
    recorder.on = false;
    return recorder.statements;
  };
  row("events", "report", "server p50 ms", "server p95 ms", "plain SQL p50 ms", "plain SQL p95 ms", "speed-up (p50)", "statements", "runs");
  row("---", "---", "---", "---", "---", "---", "---", "---", "---");
  const p50s = new Map<string, number[]>();
  for (const { size, secretKey } of datasets) {
    for (const [name, query] of Object.entries(REPORTS).filter(([name]) => !only || only.includes(name))) {
      await post(serverUrl, secretKey, { query }); // warm-up
      const server = await timed(() => post(serverUrl, secretKey, { query }), runs, budget);
      const statements = (await statementsOf(rollupServer.url, secretKey, query)).length;
      const baseline = await statementsOf(rawServer.url, secretKey, query);
      const plain = await timed(async () => {
        for (const [q, params] of baseline) await pool.query(q, params);
      }, runs, budget);
      const p50 = percentile(server, 50);
      p50s.set(name, [...(p50s.get(name) ?? []), p50]);
      row(size.toLocaleString("en-US"), name, fmt(p50), fmt(percentile(server, 95)), fmt(percentile(plain, 50)), fmt(percentile(plain, 95)),
        `${(percentile(plain, 50) / p50).toFixed(1)}x`, statements, `${server.length} / ${plain.length}`);
      console.error(lines.at(-1));
    }
  }
  if (sizes.length > 1) {
    lines.push("", `p50 at ${sizes.at(-1)!.toLocaleString("en-US")} events over p50 at ${sizes[0].toLocaleString("en-US")} (target: at most 2x):`, "");
    row("report", "ratio");
    row("---", "---");
    for (const [name, values] of p50s) row(name, `${(values.at(-1)! / values[0]).toFixed(2)}x`);
  }

  lines.push("");
  const space = await createAppspace(db, { name: `bench-ingest-${Date.now()}`, currency: "EUR" });
  await updateSettings(db, space.appspaceId, { requestLimit: 1_000_000_000, monthlyEventQuota: null, purchasesPerMinute: 1_000_000 });

  // Batch ingest: trackEvents of 100 events x 3 items at concurrency 8, against mysql2 multi-row INSERTs of the same rows.
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, rssOf(server.pid!))), 200);
  const failures = { batch: new Failures(), single: new Failures() };
  const batch = await load(8, seconds, async n => {
    const events = benchEvents(n);
    const answer = (await failures.batch.post(serverUrl, space.publishableKey, { query: TRACK_EVENTS, variables: { events } }))?.data?.trackEvents;
    if (answer) failures.batch.events += events.length - answer.accepted;
    return answer?.accepted ?? 0;
  });
  clearInterval(sampler);
  console.error(`batch ingest: ${fmt(batch.perSecond)} events/s`);
  // Raw rows take ids far above any the server allocates (kept across runs).
  const [maxId] = (await pool.query("SELECT COALESCE(MAX(id), 0) AS id FROM events")) as unknown as [{ id: number }[]];
  let nextId = Number(maxId[0].id) + 1_000_000_000;
  const rawBatch = await load(8, seconds, async n => {
    const rows = benchEvents(1_000_000 + n).map(e => rawRows(space.appspaceId, nextId++, e));
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      await conn.query(...multiRowInsert("events", EVENT_COLUMNS, rows.map(r => r.event)));
      await conn.query(...multiRowInsert("event_items", ITEM_COLUMNS, rows.flatMap(r => r.items)));
      await conn.commit();
    } finally {
      conn.release();
    }
    return 100;
  });
  console.error(`raw batch insert: ${fmt(rawBatch.perSecond)} events/s`);

  // The server refreshes the batch load's day once it has been quiet for 10 s (during the raw batch load): single ingest is
  // measured once that refresh is done, as the baseline runs with nothing beside it.
  const settled = Date.now();
  for (;;) {
    const [marks] = (await pool.query(`SELECT (SELECT COUNT(*) FROM rollup_dirty WHERE appspace_id = ?) + (SELECT COUNT(*) FROM rollup_attribution_dirty WHERE appspace_id = ?) AS n`,
      [space.appspaceId, space.appspaceId])) as unknown as [{ n: number }[]];
    if (Number(marks[0].n) === 0) break;
    if (Date.now() - settled > 900_000) throw new Error("the server has not refreshed the batch load's day within 15 minutes");
    await new Promise(r => setTimeout(r, 500));
  }
  console.error(`waited ${Math.round((Date.now() - settled) / 1000)} s for the server to refresh the batch load's day`);
  // Single ingest: trackEvent against a minimal node:http + mysql2 endpoint inserting the same event.
  const single = await load(8, seconds, async n => {
    const answer = (await failures.single.post(serverUrl, space.publishableKey, { query: TRACK_EVENT, variables: { event: benchEvents(2_000_000 + n, 1)[0] } }))?.data?.trackEvent;
    if (answer && !answer.ok) failures.single.events++;
    return answer?.ok ? 1 : 0;
  });
  const { child: minimal, match: port } = await spawnReady("src/bench/minimal-endpoint.ts", { DATABASE_URL: url.toString(), APPSPACE_ID: String(space.appspaceId), START_ID: String(nextId + 1_000_000_000) }, /listening on (\d+)/);
  const rawSingle = await load(8, seconds, async n => {
    await post(`http://127.0.0.1:${port[1]}/`, null, { event: benchEvents(3_000_000 + n, 1)[0] });
    return 1;
  });
  minimal.kill();

  row("ingest", "server", "baseline", "ratio", "target");
  row("---", "---", "---", "---", "---");
  row("batch events/s (trackEvents, 100 events x 3 items, concurrency 8)", fmt(batch.perSecond), `${fmt(rawBatch.perSecond)} (mysql2 multi-row INSERT)`, ratio(batch.perSecond, rawBatch.perSecond), ">= 50 %");
  row("single requests/s (trackEvent, concurrency 8)", fmt(single.perSecond), `${fmt(rawSingle.perSecond)} (node:http + mysql2)`, ratio(single.perSecond, rawSingle.perSecond), ">= 60 %");
  row("single p99 ms", fmt(single.p99), fmt(rawSingle.p99), "", "");
  row(`server RSS, peak over ${seconds} s of batch ingest`, `${Math.round(rss / 2 ** 20)} MiB`, "", "", "< 300 MB");
  lines.push("", "Failures during the ingest phases (target: none; any fails the run):", "");
  row("phase", "failures");
  row("---", "---");
  row("batch", failures.batch.describe());
  row("single", failures.single.describe());
  console.error(lines.join("\n"));

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const [[version]] = (await pool.query("SELECT VERSION() AS v, @@innodb_buffer_pool_size AS pool, @@tmp_table_size AS tmp, @@max_heap_table_size AS heap")) as unknown as [{ v: string; pool: number; tmp: number; heap: number }[]];
  const mib = (bytes: number) => `${Math.round(Number(bytes) / 2 ** 20)} MiB`;
  const doc = [
    "# Benchmarks",
    "",
    `Run on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, MariaDB ${version.v} (InnoDB buffer pool ${mib(version.pool)}, tmp_table_size ${mib(version.tmp)}, max_heap_table_size ${mib(version.heap)}), all on one machine.`,
    "",
    `Command: \`npm run bench -- --sizes ${sizes.join(",")} --seconds ${seconds} --runs ${runs} --budget ${budget}\`. The server runs as \`npm start\` runs it (NODE_ENV=production), in its own process; the load generator and the baselines run in another.`,
    `Data: the seeded generator (src/bench/generate.ts) writes sessions over 400 days into one appspace; reports cover their default range (the last 30 days). Rollups are refreshed before the reports are measured.`,
    "The plain-SQL baseline of a report is the SQL computing the same answer from the raw event tables: the statements the server runs for it with rollups off, replayed through mysql2.",
    "Batch ingest: every event has a userId and an anonymousId; a third are people never seen before (a new identity link each), the others people of earlier batches.",
    "Single ingest starts once the server's refresher has recomputed the day the batch load wrote (it does once the day has been quiet for 10 s, during the baseline's batch load), as its baseline runs with nothing beside it.",
    "",
    ...lines,
    "",
  ].join("\n");
  // The section of `npm run bench:scaling` stays.
  const kept = fs.existsSync(path.resolve("BENCHMARKS.md")) ? scalingSectionOf(fs.readFileSync(path.resolve("BENCHMARKS.md"), "utf8")) : "";
  fs.writeFileSync(path.resolve("BENCHMARKS.md"), kept ? `${doc}\n${kept}\n` : doc);
  console.log(doc);
  await rawServer.stop();
  await rollupServer.stop();
  // How long the measured server takes to stop after the load (SHUTDOWN_TIMEOUT_MS, 10 s: exit code 1 past it).
  const stopping = performance.now();
  server.kill("SIGTERM");
  const exitCode = await new Promise(r => server.once("exit", r));
  console.log(`server shutdown: ${Math.round(performance.now() - stopping)} ms, exit code ${exitCode}`);
  await dropScratch(pool);
  await pool.end();
  await db.destroy();
  const failed = failures.batch.requests + failures.batch.events + failures.single.requests + failures.single.events;
  if (failed) console.error(`the ingest phases failed: batch ${failures.batch.describe()}; single ${failures.single.describe()}`);
  process.exit(failed ? 1 : 0);
}

/** Deletes the ingest load's appspaces ("bench-ingest-..."): every row of every table with an appspace_id, a chunk at a time. */
async function dropScratch(pool: mysql.Pool) {
  const [spaces] = (await pool.query("SELECT id FROM appspaces WHERE name LIKE 'bench-ingest-%'")) as unknown as [{ id: number }[]];
  if (spaces.length === 0) return;
  const ids = spaces.map(s => s.id);
  const [tables] = (await pool.query(
    "SELECT DISTINCT table_name AS t FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name = 'appspace_id'")) as unknown as [{ t: string }[]];
  for (const { t } of tables) {
    for (;;) {
      const [done] = (await pool.query(`DELETE FROM \`${t}\` WHERE appspace_id IN (?) LIMIT 50000`, [ids])) as unknown as [{ affectedRows: number }];
      if (done.affectedRows < 50000) break;
    }
  }
  await pool.query("DELETE FROM appspaces WHERE id IN (?)", [ids]);
  console.error(`dropped the ingest load's appspaces ${ids.join(", ")}`);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
