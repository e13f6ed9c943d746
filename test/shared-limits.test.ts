import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppspace, CreatedAppspace, setRetention, updateSettings } from "../src/appspaces/appspace.service";
import { loadConfig } from "../src/config";
import { createDataSource } from "../src/data-source";
import { openDatabase } from "../src/open-database";
import { dbTargets } from "./helpers/databases";
import { DELETE_USER, TRACK_EVENT, TRACK_EVENTS } from "./helpers/documents";
import { LoadResult, runLoad } from "./helpers/load";
import { freePort } from "./helpers/mariadbd";
import { gqlAt, logLines, logMessages, ServerProcess, startServerProcess } from "./helpers/process";
import { ThrowawayRedis } from "./helpers/redis";
import { until } from "./helpers/wait";

/*
 * Several server processes on one database with REDIS_URL: a key's requestLimit, the velocity rule and the monthly
 * quota count the same whichever process a request reaches; with Redis gone the limits fail open for
 * REDIS_FAIL_OPEN_SECONDS, then answer 503; no event is lost or stored twice either way.
 */

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const TAG = "rdl9";

describe.each(dbTargets())("limits shared by three server processes through Redis on $name", target => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let drop: () => Promise<void>;
  let redis: ThrowawayRedis;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "limits-"));
    const created = await target.create();
    drop = created.drop;
    redis = await ThrowawayRedis.create();
    env = {
      DATABASE_URL: created.databaseUrl ?? "", SQLITE_PATH: path.join(dir, "db.sqlite"), AUDIT_SECRET_FILE: path.join(dir, "audit.key"),
      NODE_ENV: "production", REDIS_URL: redis.url, ROLLUP_REFRESH_MS: "3600000",
    };
    const db = await openDatabase(loadConfig(env));
    await db.destroy();
  });
  afterEach(async () => {
    await Promise.all(servers.map(s => s.stop()));
    servers = [];
  }, 60_000);
  afterAll(async () => {
    await redis.stop();
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An appspace with these settings, made before the servers start. */
  async function appspace(settings: Record<string, unknown>): Promise<CreatedAppspace> {
    const db = await openDatabase(loadConfig(env));
    try {
      const space = await createAppspace(db, { name: "shared", currency: "USD" });
      await updateSettings(db, space.appspaceId, settings);
      return space;
    } finally {
      await db.destroy();
    }
  }

  const start = async (n: number, extra: NodeJS.ProcessEnv = {}) => {
    servers = await Promise.all(Array.from({ length: n }, () => startServerProcess({ ...env, ...extra })));
    return servers;
  };

  it("a key's requestLimit of 50, 80 requests spread over the processes: exactly 30 answered 429", async () => {
    const space = await appspace({ requestLimit: 50 });
    await start(3);
    const statuses = await Promise.all(Array.from({ length: 80 }, async (_, i) => {
      const res = await fetch(servers[i % 3].url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${space.secretKey}` }, body: JSON.stringify({ query: "{ overview { totalOrders } }" }) });
      return res.status;
    }));
    expect({ ok: statuses.filter(s => s === 200).length, limited: statuses.filter(s => s === 429).length }).toEqual({ ok: 50, limited: 30 });
  }, 60_000);

  it("the velocity rule trips at the same count whichever process receives the purchases, and the monthly quota holds across them", async () => {
    const space = await appspace({ purchasesPerMinute: 3, monthlyEventQuota: 20, requestLimit: 1_000_000 });
    await start(3);
    // Five purchases of one person, each to another process: the 4th and the 5th are over 3 a minute.
    for (let i = 0; i < 5; i++) {
      const event = { eventType: "PURCHASE", userId: `${TAG}-buyer`, transactionId: `${TAG}-o-${i}`, eventId: `${TAG}-p-${i}`, revenue: 5 };
      expect(await gqlAt(servers[i % 3].url, space.publishableKey, TRACK_EVENT, { event })).toEqual({ data: { trackEvent: { ok: true } } });
    }
    // 30 more events at once over the processes: 15 of the quota's 20 are left.
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => gqlAt(servers[i % 3].url, space.publishableKey, TRACK_EVENT, {
      event: { eventType: "VIEW_ITEM", userId: `${TAG}-viewer-${i}`, eventId: `${TAG}-v-${i}`, items: [{ itemId: "sku" }] },
    })));
    const codes = answers.map(a => a.errors?.[0].extensions?.code ?? "ok");
    expect({ ok: codes.filter(c => c === "ok").length, over: codes.filter(c => c === "QUOTA_EXCEEDED").length }).toEqual({ ok: 15, over: 15 });
    const stats = await gqlAt(servers[0].url, space.secretKey, "{ ingestionStats { accepted stored flagged rules { rule flagged } } }");
    expect(stats.data.ingestionStats).toEqual({ accepted: 20, stored: 18, flagged: 2, rules: [{ rule: "velocity", flagged: 2 }] });
  }, 60_000);

  it("WORKERS=2: two worker processes share the port and the limits; the primary sums their metrics and replaces a dead worker; SIGTERM stops them all, exit 0", async () => {
    const space = await appspace({ requestLimit: 20 });
    const metricsPort = await freePort();
    const [server] = await start(1, { WORKERS: "2", METRICS_PORT: String(metricsPort) });
    await until("cluster ready", () => logMessages(server.out()).some(m => m.startsWith("cluster ready")), 45_000, 100);
    const statuses = await Promise.all(Array.from({ length: 30 }, async () => {
      const res = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", connection: "close", authorization: `Bearer ${space.secretKey}` }, body: JSON.stringify({ query: "{ overview { totalOrders } }" }) });
      return res.status;
    }));
    expect({ ok: statuses.filter(s => s === 200).length, limited: statuses.filter(s => s === 429).length }).toEqual({ ok: 20, limited: 10 });
    const servedBy = new Set(logLines(server.out()).filter(l => l.msg === "request").map(l => l.pid));
    expect(servedBy.size).toBe(2);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('http_request_duration_seconds_count{operation="overview",type="query",status="200"} 20');
    expect(metrics).toContain('http_request_duration_seconds_count{operation="none",type="none",status="429"} 10');
    // A worker that dies is replaced (a second later), and the cluster still stops cleanly.
    process.kill(Number([...servedBy][0]), "SIGKILL");
    const ready = () => logMessages(server.out()).filter(m => m.startsWith("GraphQL server ready")).length;
    await until("the replacement worker", () => ready() >= 3, 45_000, 100);
    expect(ready()).toBe(3);
    expect((await fetch(server.url.replace("/graphql", "/health/ready"))).status).toBe(200);
    await server.stop();
    expect(server.child.exitCode).toBe(0);
    expect(logMessages(server.out()).filter(m => m === "shutdown done")).toHaveLength(2);
    expect(logMessages(server.out())).toContain("cluster stopped");
    // Three processes (the primary and two workers, each compiling the TypeScript) start, and one more after the kill,
    // on two cores that CI shares with other suites' servers: 7 s alone, over 60 s once beside the memory test.
  }, 150_000);

  /** eventId -> rows stored, for the appspace. */
  async function storedIds(appspaceId: number): Promise<Map<string, number>> {
    const db = createDataSource(loadConfig(env));
    await db.initialize();
    try {
      const rows: { event_id: string; n: unknown }[] = await db.query("SELECT event_id, COUNT(*) AS n FROM events WHERE appspace_id = ? GROUP BY event_id", [appspaceId]);
      return new Map(rows.map(r => [r.event_id, Number(r.n)]));
    } finally {
      await db.destroy();
    }
  }

  /** Every event acknowledged is stored, once; none is stored twice. */
  async function expectStoredOnce(appspaceId: number, loads: LoadResult[]) {
    const stored = await storedIds(appspaceId);
    const acknowledged = loads.flatMap(l => [...l.acknowledged]);
    expect(acknowledged.length).toBeGreaterThan(100);
    expect(acknowledged.filter(id => stored.get(id) !== 1).slice(0, 5)).toEqual([]);
    expect([...stored.values()].filter(n => n !== 1)).toEqual([]);
  }

  /** Two loads, one per process, while Redis is stopped from `at` ms for `forMs` ms. */
  async function loadWithRedisOutage(space: CreatedAppspace, tag: string, at: number, forMs: number, seconds: number) {
    const window = { stoppingAt: 0, startedAt: 0 };
    const outage = (async () => {
      await sleep(at);
      window.stoppingAt = Date.now();
      await redis.stop();
      await sleep(forMs);
      await redis.start();
      window.startedAt = Date.now();
    })();
    const loads = await Promise.all(servers.map((s, i) => runLoad({ url: s.url, key: space.publishableKey, tag: `${tag}${i}`, concurrency: 4, seconds })));
    await outage;
    return { loads, window };
  }

  it("Redis stopped for 5 s under load: the limits fail open (no 5xx), and no event is lost or stored twice", async () => {
    const space = await appspace({ requestLimit: 1_000_000_000, monthlyEventQuota: 100_000_000, purchasesPerMinute: 1_000_000 });
    await start(2);
    const { loads } = await loadWithRedisOutage(space, `${TAG}-a`, 2000, 5000, 12);
    for (const load of loads) expect({ statuses: [...load.statuses] }).toEqual({ statuses: [[200, load.batches]] });
    await expectStoredOnce(space.appspaceId, loads);
    for (const s of servers) {
      const messages = logMessages(s.out());
      expect(messages.filter(m => m.startsWith("Redis unreachable"))).toHaveLength(1);
      expect(messages.filter(m => m.startsWith("Redis reachable again"))).toHaveLength(1);
    }
  }, 90_000);

  // MariaDB only: on one SQLite file, each process's writes hold the other's event loop (SQLite locks the file and
  // better-sqlite3 waits synchronously), long enough for its Redis connection to time out again after the outage.
  // Several processes on one database is a MySQL deployment (docs/operating.md: Several server processes).
  if (target.name === "mariadb") it("Redis gone for longer than REDIS_FAIL_OPEN_SECONDS: 503 with Retry-After until it is back, then 200; nothing lost or stored twice", async () => {
    const space = await appspace({ requestLimit: 1_000_000_000, monthlyEventQuota: 100_000_000, purchasesPerMinute: 1_000_000 });
    await start(2, { REDIS_FAIL_OPEN_SECONDS: "1" });
    const { loads, window } = await loadWithRedisOutage(space, `${TAG}-b`, 2000, 5000, 12);
    for (const load of loads) {
      // Only 200 and 503: open for the first second of the outage, then 503, and 200 again within 5 s of Redis being
      // back (SQLite's writers can hold a process for a while), from then on.
      expect([...load.statuses.keys()].filter(s => s !== 200 && s !== 503)).toEqual([]);
      if (load.statuses.get(503)) expect(load.retryAfter).toBe("2");
      const back = Math.min(...load.requests.filter(r => r.status === 200 && r.sentAt >= window.startedAt).map(r => r.answeredAt));
      expect(back - window.startedAt).toBeLessThan(5000);
      // A 503 answered less than REDIS_FAIL_OPEN_SECONDS after Redis began to stop came too early, whatever the load.
      const misplaced = load.requests.filter(r => r.status === 503 && (r.answeredAt < window.stoppingAt + 1000 || r.sentAt > back));
      expect({ misplaced, samples: misplaced.length ? load.samples : [] }).toEqual({ misplaced: [], samples: [] });
    }
    expect(loads.reduce((n, l) => n + (l.statuses.get(503) ?? 0), 0)).toBeGreaterThan(0);
    await expectStoredOnce(space.appspaceId, loads);
  }, 90_000);
});
