import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createAppspace, CreatedAppspace, updateSettings } from "../src/appspaces/appspace.service";
import { loadConfig } from "../src/config";
import { createDataSource } from "../src/data-source";
import { openDatabase } from "../src/open-database";
import { READ_MODELS } from "../src/read-models";
import { refreshStaleDays } from "../src/rollups/refresher";
import { serverMetrics } from "../src/ops/server-metrics";
import { createServer } from "../src/server";
import { Harness, startHarness } from "./helpers/harness";
import { dbTargets } from "./helpers/databases";
import { DELETE_USER, TRACK_EVENT, TRACK_EVENTS } from "./helpers/documents";
import { ThrowawayMariadb } from "./helpers/mariadbd";
import { logLines, root, ServerProcess, startServerProcess } from "./helpers/process";

/*
 * The server as an operator runs it, over HTTP against a real process: its metrics after known traffic, its log
 * (JSON lines, one per request, no personal data), its readiness while the database goes away, exchange rates
 * fetched from a rates server, and the compiled start (npm run start:prod) answering as npm start does.
 */

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const APP_ID = "oxr-app-id-5f3c9e";
const CLIENT_IP = "203.0.113.77";
const EVENT_IP = "198.51.100.23";
/** The ids the traffic sends: none may appear in the log. */
const IDS = {
  users: ["ops-user-ann", "ops-user-bob", "ops-user-bot"], anonymous: "ops-anon-7c1", orders: ["ops-order-1", "ops-order-2"],
  events: ["ops-ev-1", "ops-ev-2", "ops-ev-4", "ops-ev-7", "ops-ev-8"], alias: "ops-alias-9",
};
const FIXTURE_DAY = "2026-11-01";

/** A latest.json server (Open Exchange Rates' format) whose answer the test sets. */
async function ratesServer() {
  let answer = { status: 200, body: JSON.stringify({ timestamp: Date.parse(`${FIXTURE_DAY}T00:00:00Z`) / 1000, base: "USD", rates: { USD: 1, EUR: 0.5, GBP: 0.25 } }) };
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url!);
    res.writeHead(answer.status, { "content-type": "application/json", connection: "close" });
    res.end(answer.body);
  });
  await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/latest.json`,
    seen,
    fail: () => (answer = { status: 500, body: "{}" }),
    close: () => new Promise(r => server.close(r)),
  };
}

/** Prometheus' text format: the TYPE of each metric, and a sample's value by name and labels. */
function parseMetrics(text: string) {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    const sample = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (sample) samples.set(`${sample[1]}${sample[2] ?? ""}`, Number(sample[3]));
  }
  const value = (name: string, labels: Record<string, string | number> = {}) => {
    const key = Object.keys(labels).length ? `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}` : name;
    for (const [sampleKey, v] of samples) if (sameSample(sampleKey, key)) return v;
    return undefined;
  };
  return { types, value };
}

/** Two sample keys with the same name and labels, whatever the labels' order. */
function sameSample(a: string, b: string): boolean {
  const split = (k: string) => {
    const [name, labels = ""] = k.replace(/}$/, "").split("{");
    return `${name}|${labels.split(/,(?=\w+=")/).filter(Boolean).sort().join(",")}`;
  };
  return split(a) === split(b);
}

async function scrape(url: string) {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await sleep(100);
  }
}

/**
 * Appspaces made before the server starts (so it makes no demo appspace): `a` with room, `b` with requestLimit 3,
 * `c` with a monthly quota of one event.
 */
async function prepare(env: NodeJS.ProcessEnv): Promise<Record<"a" | "b" | "c", CreatedAppspace>> {
  const db = await openDatabase(loadConfig(env));
  const [a, b, c] = [await createAppspace(db, { name: "ops-a", currency: "USD" }), await createAppspace(db, { name: "ops-b", currency: "USD" }), await createAppspace(db, { name: "ops-c", currency: "USD" })];
  await updateSettings(db, b.appspaceId, { requestLimit: 3 });
  await updateSettings(db, c.appspaceId, { monthlyEventQuota: 1 });
  await db.destroy();
  return { a, b, c };
}

/** Every report, journey, stats and deletion status of a person, by a secret key. */
const REPORTS = /* GraphQL */ `query Everything($userId: String!) {
  overview { totalRevenue totalOrders }
  revenueTimeseries { days }
  funnel { days }
  topProducts { days }
  revenueBreakdown(by: [COUNTRY]) { days }
  revenueByChannel { days }
  revenueByCoupon { days }
  revenueByDevice { days }
  revenueByPlatform { days }
  revenueByCountry { days }
  cartAbandonment { days }
  attribution { windowDays }
  cohorts { totalPurchasingUsers }
  userJourney(userId: $userId) { userId }
  ingestionStats { accepted stored flagged duplicates blocked rejected }
}`;

describe.each(dbTargets())("operating the server on $name", target => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let drop: () => Promise<void>;
  let spaces: Record<"a" | "b" | "c", CreatedAppspace>;
  let rates: Awaited<ReturnType<typeof ratesServer>>;
  let server: ServerProcess | null = null;
  /** Every POST to /graphql the test sent to the first server, with the x-request-id it answered. */
  const sent: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-"));
    const created = await target.create();
    drop = created.drop;
    rates = await ratesServer();
    env = {
      DATABASE_URL: created.databaseUrl ?? "", SQLITE_PATH: path.join(dir, "db.sqlite"), AUDIT_SECRET_FILE: path.join(dir, "audit.key"),
      NODE_ENV: "production", LOG_LEVEL: "debug", TRUST_PROXY: "1", ROLLUP_REFRESH_MS: "3600000",
      RATES_URL: rates.url, RATES_APP_ID: APP_ID, RATES_REFRESH_HOURS: "0.0003", METRICS_PORT: "0",
    };
    spaces = await prepare(env);
  });
  afterAll(async () => {
    await server?.stop();
    await rates.close();
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = async (body: object, headers: Record<string, string> = {}) => {
    const res = await fetch(server!.url, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": CLIENT_IP, ...headers }, body: JSON.stringify(body) });
    sent.push(res.headers.get("x-request-id") ?? "(none)");
    return { status: res.status, body: (await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] } };
  };
  const metricsUrl = () => String(logLines(server!.out()).find(l => l.msg?.startsWith("GraphQL server ready"))!.metrics);
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  it("counts the traffic sent in its metrics: requests by operation and status, events by outcome, refusals, the backlogs", async () => {
    server = await startServerProcess(env);
    // Production's defaults: browsers from Apollo Sandbox only, no introspection.
    const preflight = (origin: string) => fetch(server!.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } }).then(r => r.headers.get("access-control-allow-origin"));
    expect([await preflight("https://studio.apollographql.com"), await preflight("https://evil.example")]).toEqual(["https://studio.apollographql.com", null]);
    // On METRICS_PORT only; the rates fetched at start before anything is converted.
    expect((await fetch(server.url.replace("/graphql", "/metrics"))).status).toBe(404);
    const fetched = await until(() => scrape(metricsUrl()), m => (m.value("rates_fetches_total", { outcome: "ok" }) ?? 0) >= 1);
    expect(fetched.value("rates_date_seconds")).toBe(Date.parse(`${FIXTURE_DAY}T00:00:00Z`) / 1000);
    expect(rates.seen[0]).toBe(`/api/latest.json?app_id=${APP_ID}`);

    const [ann, bob, bot] = IDS.users;
    const batch = [
      { eventType: "PURCHASE", userId: ann, anonymousId: IDS.anonymous, transactionId: IDS.orders[0], eventId: IDS.events[0], revenue: 10, currency: "EUR", items: [{ itemId: "sku-1", price: 10 }] },
      { eventType: "VIEW_ITEM", userId: bob, eventId: IDS.events[1], items: [{ itemId: "sku-2" }], context: { ip: EVENT_IP } },
      { eventType: "VIEW_ITEM", userId: bob, eventId: IDS.events[1], items: [{ itemId: "sku-2" }] },
      { eventType: "VIEW_ITEM", userId: bot, eventId: IDS.events[2], context: { userAgent: "Googlebot/2.1 (+http://www.google.com/bot.html)" }, items: [{ itemId: "sku-2" }] },
      { eventType: "PURCHASE", userId: ann, revenue: 5 },
      { eventType: "VIEW_ITEM", userId: ann, currency: "NOPE", items: [{ itemId: "sku-3" }] },
      { eventType: "PURCHASE", userId: ann, transactionId: IDS.orders[1], eventId: IDS.events[3], revenue: 200_000, aliases: [IDS.alias] },
    ];
    const tracked = await post({ query: TRACK_EVENTS, variables: { events: batch } }, { ...auth(spaces.a.publishableKey), "x-request-id": "ops-batch-1" });
    expect(tracked.body.data!.trackEvents.accepted).toBe(5);
    const rejectedCodes = tracked.body.data!.trackEvents.errors.map((e: { code: string }) => e.code);
    expect(rejectedCodes).toEqual(["MISSING_FIELD", "INVALID_VALUE"]);
    expect(sent.at(-1)).toBe("ops-batch-1");
    const single = await post({ query: TRACK_EVENT, variables: { event: { eventType: "ADD_TO_CART", userId: ann, eventId: IDS.events[4], items: [{ itemId: "sku-1", price: 10 }] } } }, auth(spaces.a.publishableKey));
    expect(single.body).toEqual({ data: { trackEvent: { ok: true } } });

    // Reports: two overviews; a person's journey and deletion; a syntax error; an unknown key; B past its limit of 3.
    for (let i = 0; i < 2; i++) expect((await post({ query: "{ overview { totalRevenue } }" }, auth(spaces.a.secretKey))).body.data!.overview.totalRevenue).toBe(20);
    const everything = await post({ query: REPORTS, variables: { userId: ann } }, auth(spaces.a.secretKey));
    expect(everything.body.errors).toBeUndefined();
    expect(everything.body.data!.ingestionStats).toEqual({ accepted: 6, stored: 3, flagged: 1, duplicates: 1, blocked: 1, rejected: 2 });
    const deletion = await post({ query: DELETE_USER, variables: { userId: bob } }, auth(spaces.a.secretKey));
    const deletionId = deletion.body.data!.deleteUser.id;
    const beforePolls = sent.length;
    const status = () => post({ query: "query ($id: ID!) { userDeletion(id: $id) { status } }", variables: { id: deletionId } }, auth(spaces.a.secretKey));
    expect((await until(status, r => r.body.data?.userDeletion.status === "DONE")).body.data!.userDeletion.status).toBe("DONE");
    const polls = sent.length - beforePolls;
    expect((await post({ query: "{ overview { totalRevenue " }, auth(spaces.a.secretKey))).status).toBe(400);
    expect((await post({ query: "{ overview { totalRevenue } }" }, auth("sk_unknown"))).status).toBe(401);
    const limited = [];
    for (let i = 0; i < 4; i++) limited.push((await post({ query: "{ overview { totalOrders } }" }, auth(spaces.b.secretKey))).status);
    expect(limited).toEqual([200, 200, 200, 429]);
    const view = (n: number) => ({ query: TRACK_EVENT, variables: { event: { eventType: "VIEW_ITEM", userId: ann, eventId: `${IDS.events[4]}-c${n}`, items: [{ itemId: "sku-1" }] } } });
    const quota = [await post(view(1), auth(spaces.c.publishableKey)), await post(view(2), auth(spaces.c.publishableKey))];
    expect(quota.map(r => [r.status, r.body.errors?.[0].extensions?.code ?? "ok"])).toEqual([[200, "ok"], [429, "QUOTA_EXCEEDED"]]);

    const m = await scrape(metricsUrl());
    const A = spaces.a.appspaceId;
    const requests = (operation: string, type: string, status: number) => m.value("http_request_duration_seconds_count", { operation, type, status });
    expect({
      overview: requests("overview", "query", 200), everything: requests("multiple", "query", 200), trackEvents: requests("trackEvents", "mutation", 200),
      trackEvent: requests("trackEvent", "mutation", 200), overQuota: requests("trackEvent", "mutation", 429), deleteUser: requests("deleteUser", "mutation", 200), userDeletion: requests("userDeletion", "query", 200),
      syntax: requests("none", "none", 400), unknownKey: requests("none", "none", 401), limited: requests("none", "none", 429),
    }).toEqual({ overview: 2 + 3, everything: 1, trackEvents: 1, trackEvent: 2, overQuota: 1, deleteUser: 1, userDeletion: polls, syntax: 1, unknownKey: 1, limited: 1 });
    const events = (outcome: string, code = "") => m.value("ingest_events_total", { appspace: A, outcome, code });
    expect({
      stored: events("stored"), flagged: events("flagged"), duplicate: events("duplicate"), blocked: events("blocked", "bot"),
      missing: events("rejected", "MISSING_FIELD"), invalid: events("rejected", "INVALID_VALUE"), accepted: m.value("ingest_events_accepted_total", { appspace: A }),
    }).toEqual({ stored: 3, flagged: 1, duplicate: 1, blocked: 1, missing: 1, invalid: 1, accepted: 6 });
    // Three transactions: the batch's 4 events to write (the blocked one is not), A's single one and C's first.
    expect({ count: m.value("ingest_transaction_events_count"), sum: m.value("ingest_transaction_events_sum") }).toEqual({ count: 3, sum: 6 });
    expect(m.value("ingest_transaction_requests_sum")).toBe(3);
    expect(m.value("ingest_events_total", { appspace: spaces.c.appspaceId, outcome: "stored", code: "" })).toBe(1);
    expect(m.value("requests_refused_total", { reason: "rate_limited", appspace: spaces.b.appspaceId })).toBe(1);
    expect(m.value("requests_refused_total", { reason: "quota_exceeded", appspace: spaces.c.appspaceId })).toBe(1);
    expect(m.value("deletion_requests", { status: "DONE" })).toBe(1);
    expect(m.value("deletion_requests", { status: "PENDING" })).toBe(0);
    // Nothing refreshed (ROLLUP_REFRESH_MS is an hour): today is stale, marked within this test.
    expect(m.value("rollup_stale_days")).toBeGreaterThanOrEqual(1);
    expect(m.value("rollup_oldest_stale_seconds")).toBeLessThan(120);
    expect(m.value("ops_gauges_read_ok")).toBe(1);
    expect(m.value("db_pool_connections_max")).toBe(target.name === "mariadb" ? 10 : 1);
    expect(m.value("db_pool_connections_in_use")).toBeGreaterThanOrEqual(0);
    expect(m.value("process_resident_memory_bytes")).toBeGreaterThan(10_000_000);
    expect(Object.fromEntries(["http_request_duration_seconds", "ingest_events_total", "ingest_events_accepted_total", "ingest_transaction_requests",
      "ingest_transaction_events", "ingest_transaction_duration_seconds", "db_transaction_retries_total", "db_deadlocks_total", "db_pool_connections_in_use",
      "db_pool_requests_waiting", "rollup_stale_days", "rollup_oldest_stale_seconds", "rollup_refresh_duration_seconds", "deletion_requests",
      "requests_refused_total", "rates_fetches_total", "nodejs_eventloop_lag_seconds"].map(n => [n, m.types.get(n)]))).toEqual({
      http_request_duration_seconds: "histogram", ingest_events_total: "counter", ingest_events_accepted_total: "counter", ingest_transaction_requests: "histogram",
      ingest_transaction_events: "histogram", ingest_transaction_duration_seconds: "histogram", db_transaction_retries_total: "counter", db_deadlocks_total: "counter",
      db_pool_connections_in_use: "gauge", db_pool_requests_waiting: "gauge", rollup_stale_days: "gauge", rollup_oldest_stale_seconds: "gauge",
      rollup_refresh_duration_seconds: "histogram", deletion_requests: "gauge", requests_refused_total: "counter", rates_fetches_total: "counter", nodejs_eventloop_lag_seconds: "gauge",
    });
  }, 90_000);

  it("keeps the last exchange rates when a fetch fails, and counts and logs the failure", async () => {
    rates.fail();
    const failed = await until(() => scrape(metricsUrl()), m => (m.value("rates_fetches_total", { outcome: "failed" }) ?? 0) >= 1);
    expect(failed.value("rates_fetches_total", { outcome: "failed" })).toBeGreaterThanOrEqual(1);
    // 10 EUR is still 20 USD: the rates fetched at start stay in force.
    const purchase = { eventType: "PURCHASE", userId: IDS.users[0], transactionId: `${IDS.orders[0]}-b`, revenue: 10, currency: "EUR" };
    expect((await post({ query: TRACK_EVENT, variables: { event: purchase } }, auth(spaces.a.publishableKey))).body).toEqual({ data: { trackEvent: { ok: true } } });
    expect((await post({ query: "{ overview { totalRevenue } }" }, auth(spaces.a.secretKey))).body.data!.overview.totalRevenue).toBe(40);
    const warned = logLines(server!.out()).find(l => l.scope === "rates" && l.level === "warn");
    expect(warned).toMatchObject({ msg: "exchange rates not fetched; the last rates stay in force", reason: "HTTP 500" });
  }, 60_000);

  it("logs one JSON line per request, with its id, operation, appspace, status and duration, and no personal data", async () => {
    const before = server!;
    await before.stop();
    const out = before.out();
    const lines = out.split("\n").filter(l => l.trim() !== "");
    // Every line is JSON (the demo appspace's keys are printed only when the server makes one: not here).
    expect(lines.filter(l => { try { JSON.parse(l); return false; } catch { return true; } })).toEqual([]);
    const requests = logLines(out).filter(l => l.msg === "request" && l.method === "POST");
    expect(requests.find(r => r.status === 401)).toMatchObject({ operation: null, appspace: null, errors: ["UNAUTHENTICATED"] });
    expect(logLines(out).filter(l => l.msg === "request" && l.method === "OPTIONS").map(l => l.status)).toEqual([204, 204]);
    expect(requests.map(r => r.requestId).sort()).toEqual([...sent].sort());
    expect(requests.find(r => r.requestId === "ops-batch-1")).toMatchObject({
      level: "info", scope: "http", operation: "trackEvents", type: "mutation", operationName: "TrackBatch", appspace: spaces.a.appspaceId,
      status: 200, accepted: 5, rejected: 2, durationMs: expect.any(Number),
    });
    expect(requests.find(r => r.status === 429 && r.appspace === spaces.b.appspaceId)).toMatchObject({ operation: null, errors: ["RATE_LIMITED"] });
    expect(requests.find(r => r.status === 429 && r.appspace === spaces.c.appspaceId)).toMatchObject({ operation: "trackEvent", errors: ["QUOTA_EXCEEDED"] });
    const messages = new Set(logLines(out).map(l => l.msg));
    for (const m of ["exchange rates fetched", "deletion chunk", "deletion done", "shutdown done"]) expect(messages).toContain(m);
    const secrets = [
      ...Object.values(spaces).flatMap(space => [space.publishableKey, space.secretKey]), "sk_", "pk_", CLIENT_IP, EVENT_IP, APP_ID, "latest.json",
      ...IDS.users, IDS.anonymous, ...IDS.orders, ...IDS.events, IDS.alias,
    ];
    expect(secrets.filter(s => out.includes(s))).toEqual([]);
    server = null;
  }, 30_000);

  it("npm run start:prod (compiled to dist/) answers as npm start does", async () => {
    const quiet = { ...env, RATES_URL: "", RATES_APP_ID: "" };
    const answers = async (s: ServerProcess) => {
      const res = await fetch(s.url, { method: "POST", headers: { "content-type": "application/json", ...auth(spaces.a.secretKey) }, body: JSON.stringify({ query: REPORTS, variables: { userId: IDS.users[0] } }) });
      const ready = await fetch(s.url.replace("/graphql", "/health/ready"));
      return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> }, ready: ready.status };
    };
    const dev = await startServerProcess(quiet);
    const fromDev = await answers(dev).finally(() => dev.stop());
    // The server half of `npm run build`: its dashboard half empties dashboard/dist, which the browser tests in other
    // workers are reading (npm test's pretest built it).
    execFileSync("npm", ["run", "-s", "build:server"], { cwd: root, stdio: "pipe" });
    expect(fs.existsSync(path.join(root, "dist", "index.js.map"))).toBe(true);
    const prod = await startServerProcess(quiet, "start:prod");
    const fromProd = await answers(prod).finally(() => prod.stop());
    expect(fromDev.body.data.overview).toEqual({ totalRevenue: 40, totalOrders: 2 });
    expect(fromProd).toEqual(fromDev);
  }, 90_000);
});

describe.each(dbTargets())("readiness in process on $name", target => {
  it("answers 503 naming migrations while one is not applied, and shutdown once the server drains", async () => {
    const created = await target.create();
    const db = createDataSource(created);
    await db.initialize();
    await db.runMigrations({ transaction: "each" });
    const running = await (await createServer(db, { rollupRefreshMs: 3_600_000 })).listen(0, "127.0.0.1");
    const ready = async () => {
      const res = await fetch(running.url.replace("/graphql", "/health/ready"));
      return { status: res.status, body: await res.json() };
    };
    try {
      expect(await ready()).toEqual({ status: 200, body: { status: "ok", checks: { database: "ok", migrations: "ok", shutdown: "ok" } } });
      const [last] = await db.query("SELECT id, timestamp, name FROM migrations ORDER BY timestamp DESC LIMIT 1");
      await db.query("DELETE FROM migrations WHERE id = ?", [last.id]);
      expect(await ready()).toEqual({ status: 503, body: { status: "unavailable", failed: ["migrations"], checks: { database: "ok", migrations: "pending", shutdown: "ok" } } });
      await db.query("INSERT INTO migrations (timestamp, name) VALUES (?, ?)", [last.timestamp, last.name]);
      expect((await ready()).status).toBe(200);
      const stopping = running.stop();
      expect(await ready()).toEqual({ status: 503, body: { status: "unavailable", failed: ["shutdown"], checks: { database: "unknown", migrations: "unknown", shutdown: "shutting down" } } });
      await stopping;
    } finally {
      await db.destroy();
      await created.drop();
    }
  });
});

// MariaDB only (run when MYSQL_TEST_URL is set, as in .ci/run): an embedded SQLite file does not go away.
if (process.env.MYSQL_TEST_URL) describe("readiness while the database goes away (a throwaway MariaDB)", () => {
  it("answers 503 naming the database within a second while it is stopped, 200 again once it is back; liveness stays 200", async () => {
    const mariadbd = await ThrowawayMariadb.create();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-ready-"));
    let server: ServerProcess | null = null;
    try {
      const env = { DATABASE_URL: mariadbd.url, AUDIT_SECRET_FILE: path.join(dir, "audit.key"), NODE_ENV: "production" };
      await prepare(env);
      server = await startServerProcess(env);
      const base = server.url.replace("/graphql", "");
      const probe = async (p: string) => {
        const started = Date.now();
        const res = await fetch(base + p);
        return { status: res.status, body: await res.json(), ms: Date.now() - started };
      };
      expect(await probe("/health/ready")).toMatchObject({ status: 200, body: { status: "ok", checks: { database: "ok", migrations: "ok", shutdown: "ok" } } });
      await mariadbd.stop();
      const down = await probe("/health/ready");
      expect(down).toMatchObject({ status: 503, body: { status: "unavailable", failed: ["database"], checks: { database: expect.stringMatching(/^(unreachable|timeout)$/), migrations: "unknown", shutdown: "ok" } } });
      expect(down.ms).toBeLessThan(1500);
      expect(await probe("/health/live")).toMatchObject({ status: 200, body: { status: "ok" } });
      expect(await probe("/health")).toMatchObject({ status: 200, body: { status: "ok" } });
      await mariadbd.start();
      const back = await until(() => probe("/health/ready"), r => r.status === 200, 20_000);
      expect(back).toMatchObject({ status: 200, body: { status: "ok" } });
    } finally {
      await server?.stop();
      await mariadbd.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe.each(dbTargets())("the gauges read off the database on $name", target => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(target);
  });
  afterAll(() => h.close());

  const gauges = async () => parseMetrics(await serverMetrics(h.db).text());

  it("rollup_oldest_stale_seconds is the age of a day's first mark, kept while the refresher leaves the day stale", async () => {
    const { appspaceId } = await h.appspace();
    const twoHoursAgo = target.name === "mariadb" ? "CURRENT_TIMESTAMP - INTERVAL 2 HOUR" : "datetime('now', '-2 hours')";
    await h.db.query(`INSERT INTO rollup_dirty (appspace_id, day, marked_at) VALUES (?, '2026-03-01', ${twoHoursAgo})`, [appspaceId]);
    for (let i = 0; i < 3; i++) await h.db.query("INSERT INTO rollup_dirty (appspace_id, day) VALUES (?, '2026-03-01')", [appspaceId]);
    await h.db.query("INSERT INTO rollup_dirty (appspace_id, day) VALUES (?, '2026-03-02')", [appspaceId]);
    const before = await gauges();
    expect(before.value("rollup_stale_days")).toBe(2);
    expect(before.value("rollup_oldest_stale_seconds")).toBeGreaterThanOrEqual(7200);
    expect(before.value("rollup_oldest_stale_seconds")).toBeLessThan(7260);
    // The refresher waits for both days to be quiet: it compacts their marks, keeping each day's oldest and newest.
    expect(await refreshStaleDays(h.db, READ_MODELS, { skip: () => true })).toBe(0);
    expect(await h.count("rollup_dirty", "appspace_id = ? AND day = '2026-03-01'", [appspaceId])).toBe(2);
    const after = await gauges();
    expect(after.value("rollup_stale_days")).toBe(2);
    expect(after.value("rollup_oldest_stale_seconds")).toBeGreaterThanOrEqual(7200);
    // Refreshed: nothing waits.
    expect(await refreshStaleDays(h.db, READ_MODELS)).toBe(2);
    expect((await gauges()).value("rollup_stale_days")).toBe(0);
    expect((await gauges()).value("rollup_oldest_stale_seconds")).toBe(0);
  });

  if (target.name === "mariadb") {
    it("db_pool_connections_in_use counts a connection held by a transaction", async () => {
      const runner = h.db.createQueryRunner();
      await runner.startTransaction();
      await runner.query("SELECT 1");
      const held = (await gauges()).value("db_pool_connections_in_use")!;
      await runner.rollbackTransaction();
      await runner.release();
      const released = (await gauges()).value("db_pool_connections_in_use")!;
      expect(held).toBeGreaterThanOrEqual(1);
      expect(released).toBeLessThanOrEqual(held - 1);
      expect((await gauges()).value("db_pool_connections_max")).toBe(10);
    });
  }
});
