import "reflect-metadata";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import { Logger } from "typeorm";
import { createAppspace, updateSettings } from "../appspaces/appspace.service";
import { parseFlags } from "../cli";
import { createDataSource } from "../db/data-source";
import { dbTime, multiRowInsert } from "../db/sql";
import { EVENT_COLUMNS, ITEM_COLUMNS } from "../ingest/event-writer";
import { ensureRates } from "../ingest/rates/rates.service";
import { createServer } from "../server";
import { generate } from "./generate";

/*
 * npm run bench -- [--sizes 1000000,10000000] [--seconds 20] [--runs 20]
 * On MariaDB/MySQL from DATABASE_URL (default mysql://root@127.0.0.1:3306/analytics_bench, which it recreates).
 * Every figure is a ratio against a baseline measured in the same run; the table goes to BENCHMARKS.md.
 */

/** Records the SQL the server sends, so a report's own statements can be replayed as the plain-SQL baseline. */
class Recorder implements Logger {
  statements: [string, unknown[]][] = [];
  logQuery(query: string, parameters?: unknown[]) {
    if (!/^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|SELECT VERSION|SELECT DATABASE)/i.test(query.trim())) this.statements.push([query, parameters ?? []]);
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Runs `worker` on `concurrency` loops for `seconds`; returns the units done per second and each call's latency. */
async function load(concurrency: number, seconds: number, worker: (n: number) => Promise<number>) {
  const until = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  let units = 0;
  let n = 0;
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) {
      const t = performance.now();
      units += await worker(n++);
      latencies.push(performance.now() - t);
    }
  }));
  return { perSecond: units / ((Date.now() - start) / 1000), p99: percentile(latencies, 99) };
}

function batchOf(n: number, size = 100) {
  return Array.from({ length: size }, (_, i) => ({
    eventType: i % 10 === 0 ? "PURCHASE" : "ADD_TO_CART",
    transactionId: `bench-${n}-${i}`,
    revenue: 30,
    userId: `bench-user-${n}-${i % 20}`,
    items: [1, 2, 3].map(k => ({ itemId: `sku-${(i + k) % 500}`, price: 10, quantity: 1 })),
  }));
}

const TRACK_EVENTS = "mutation ($events: [EventInput!]!) { trackEvents(events: $events) { accepted } }";
const TRACK_EVENT = "mutation ($event: EventInput!) { trackEvent(event: $event) { ok } }";

async function post(url: string, key: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200 || (json as { errors?: unknown }).errors) throw new Error(`request failed: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/** The rows the app writes for one event with 3 items, built by hand for the raw baselines. */
function rawRows(appspaceId: number, id: number, n: number, i: number): { event: unknown[]; items: unknown[][] } {
  const now = dbTime(new Date());
  const event = [
    id, appspaceId, null, i % 10 === 0 ? "PURCHASE" : "ADD_TO_CART", now, now, `raw-${n}-${i}`, `raw-user-${n}-${i % 20}`, null, null, null, null,
    3000, null, null, null, "EUR", 3000, null, null, null, "1", null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
  ];
  const items = [1, 2, 3].map((k, line) => [id, line, appspaceId, `sku-${(i + k) % 500}`, null, null, null, null, null, null, null, 1, 1000, null, "EUR", 1000, null, "1", null, null, null]);
  return { event, items };
}

const REPORTS: Record<string, string> = {
  overview: "{ overview { totalRevenue netRevenue totalOrders totalRefunds refundAmount avgOrderValue totalItemsSold cartAbandonmentRate addToCartRate } }",
  revenueTimeseries: "{ revenueTimeseries { series { date revenue orders } } }",
  funnel: "{ funnel { steps { name count percentage } } }",
  topProducts: "{ topProducts(limit: 20) { products { itemId revenue quantity orders product { name } } } }",
  revenueByChannel: "{ revenueByChannel { channels { campaign source medium revenue orders conversionRate } } }",
  revenueByCoupon: "{ revenueByCoupon { coupons { couponCode revenue orders avgDiscount } } }",
  revenueByDevice: "{ revenueByDevice { devices { deviceType revenue orders } } }",
  revenueByCountry: "{ revenueByCountry { countries { country revenue orders } } }",
  cartAbandonment: "{ cartAbandonment { abandonmentRate abandonedCarts abandonedRevenue completedCarts } }",
  attribution: "{ attribution(model: LINEAR) { attributed { campaign source medium revenue orders } unattributed { revenue orders } } }",
  cohorts: "{ cohorts(months: 6) { avgLtv totalPurchasingUsers cohorts { month users } } }",
};

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const sizes = String(flags.sizes ?? "1000000,10000000").split(",").filter(Boolean).map(Number);
  const seconds = Number(flags.seconds ?? 20);
  const runs = Number(flags.runs ?? 20);
  const url = new URL(process.env.DATABASE_URL || "mysql://root@127.0.0.1:3306/analytics_bench");
  const dbName = url.pathname.slice(1);
  const admin = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
  await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4`);
  await admin.end();

  const recorder = new Recorder();
  const db = createDataSource({ databaseUrl: url.toString(), sqlitePath: "", logger: recorder });
  await db.initialize();
  await db.runMigrations();
  await ensureRates(db);
  const pool = mysql.createPool({ uri: url.toString(), connectionLimit: 16, timezone: "Z" });
  const space = await createAppspace(db, { name: "bench", currency: "EUR" });
  await updateSettings(db, space.appspaceId, { requestLimit: 1_000_000_000, monthlyEventQuota: null, purchasesPerMinute: 1_000_000 });
  const server = await createServer(db);
  const running = await server.listen(0, "127.0.0.1");
  const lines: string[] = [];
  const row = (...cells: (string | number)[]) => lines.push(`| ${cells.join(" | ")} |`);
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));

  // Batch ingest: trackEvents of 100 events x 3 items at concurrency 8, against raw multi-row INSERTs of the same rows.
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 200);
  const batch = await load(8, seconds, async n => (await post(running.url, space.publishableKey, { query: TRACK_EVENTS, variables: { events: batchOf(n) } })).data.trackEvents.accepted);
  clearInterval(sampler);
  let nextId = 1_000_000_000_000;
  const rawBatch = await load(8, seconds, async n => {
    const rows = Array.from({ length: 100 }, (_, i) => rawRows(space.appspaceId, nextId++, n, i));
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

  // Single ingest: trackEvent against a minimal node:http + mysql2 endpoint inserting the same event.
  const single = await load(8, seconds, async n => {
    await post(running.url, space.publishableKey, { query: TRACK_EVENT, variables: { event: batchOf(n, 1)[0] } });
    return 1;
  });
  const minimal = http.createServer((req, res) => {
    let body = "";
    req.on("data", d => (body += d));
    req.on("end", async () => {
      JSON.parse(body);
      const { event, items } = rawRows(space.appspaceId, nextId++, 0, 1);
      const conn = await pool.getConnection();
      await conn.beginTransaction();
      await conn.query(...multiRowInsert("events", EVENT_COLUMNS, [event]));
      await conn.query(...multiRowInsert("event_items", ITEM_COLUMNS, items));
      await conn.commit();
      conn.release();
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>(r => minimal.listen(0, "127.0.0.1", r));
  const minimalUrl = `http://127.0.0.1:${(minimal.address() as { port: number }).port}/`;
  const rawSingle = await load(8, seconds, async n => {
    await (await fetch(minimalUrl, { method: "POST", body: JSON.stringify({ event: batchOf(n, 1)[0] }) })).json();
    return 1;
  });
  minimal.close();

  row("ingest", "server", "baseline", "ratio", "target");
  row("---", "---", "---", "---", "---");
  row("batch events/s (trackEvents, 100 x 3 items, concurrency 8)", fmt(batch.perSecond), `${fmt(rawBatch.perSecond)} (mysql2 multi-row INSERT)`, `${(100 * batch.perSecond / rawBatch.perSecond).toFixed(0)} %`, ">= 50 %");
  row("single requests/s (trackEvent, concurrency 8)", fmt(single.perSecond), `${fmt(rawSingle.perSecond)} (node:http + mysql2)`, `${(100 * single.perSecond / rawSingle.perSecond).toFixed(0)} %`, ">= 60 %");
  row("single p99 ms", fmt(single.p99), fmt(rawSingle.p99), "", "");
  row(`server RSS under ${seconds} s of batch load (server and load generator in one process)`, `${Math.round(rss / 1e6)} MB`, "", "", "< 300 MB");
  lines.push("");

  // Reports at each size: p50/p95 over HTTP against the same statements replayed through mysql2.
  row("events", "report", "server p50 ms", "server p95 ms", "plain SQL p50 ms", "plain SQL p95 ms", "speed-up (p50)", "statements");
  row("---", "---", "---", "---", "---", "---", "---", "---");
  let generated = 0;
  for (const size of sizes) {
    const t = Date.now();
    const [counted] = await pool.query("SELECT COUNT(*) AS n FROM events WHERE appspace_id = ?", [space.appspaceId]) as unknown as [{ n: number }[]];
    generated += (await generate(db, space.appspaceId, { events: size - Number(counted[0].n), seed: 1000 + generated })).events;
    console.error(`generated up to ${size} events in ${Math.round((Date.now() - t) / 1000)} s`);
    for (const [name, query] of Object.entries(REPORTS)) {
      await post(running.url, space.secretKey, { query }); // warm-up
      const server: number[] = [];
      recorder.statements = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await post(running.url, space.secretKey, { query });
        server.push(performance.now() - t0);
      }
      const perRequest = recorder.statements.length / runs;
      const statements = recorder.statements.slice(0, perRequest).filter(([q]) => !/api_keys/.test(q));
      const plain: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        for (const [q, params] of statements) await pool.query(q, params);
        plain.push(performance.now() - t0);
      }
      row(size.toLocaleString("en-US"), name, fmt(percentile(server, 50)), fmt(percentile(server, 95)), fmt(percentile(plain, 50)), fmt(percentile(plain, 95)),
        `${(percentile(plain, 50) / percentile(server, 50)).toFixed(2)}x`, perRequest);
      console.error(lines.at(-1));
    }
  }

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const [[version]] = await pool.query("SELECT VERSION() AS v") as unknown as [{ v: string }[]];
  const doc = [
    "# Benchmarks",
    "",
    `Run on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 1e9)} GB RAM, Node ${process.version}, ${version.v}, all on one machine.`,
    `Command: \`npm run bench -- --sizes ${sizes.join(",")} --seconds ${seconds} --runs ${runs}\`. Data: the seeded generator (src/bench/generate.ts), 400 days, one appspace; reports over their default range (the last 30 days).`,
    "The plain-SQL baseline replays, through mysql2, the very statements the server ran for the report (captured from its logger), so the speed-up shows the server's overhead; the 20x target needs rollups, which are not built yet.",
    "",
    ...lines,
    "",
  ].join("\n");
  fs.writeFileSync(path.resolve("BENCHMARKS.md"), doc);
  console.log(doc);
  await running.stop();
  await pool.end();
  await db.destroy();
  process.exit(0);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
