import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppspace, CreatedAppspace } from "../src/appspaces/appspace.service";
import { loadConfig } from "../src/config";
import { openDatabase } from "../src/open-database";
import { TRACK_EVENTS } from "./helpers/documents";
import { ThrowawayMariadb } from "./helpers/mariadbd";
import { gqlAt, logLines, ServerProcess, startServerProcess } from "./helpers/process";

/*
 * Read replicas (DATABASE_READ_URLS) with a MariaDB primary and replica of the test's own (binary log on the primary,
 * replication set up here): reports read through the replica equal the primary's once it has caught up; a replica that
 * lags more than REPLICA_MAX_LAG_SECONDS, or is down, is skipped and the primary answers; it serves again once caught
 * up or back; dataAsOf moves with the replica's heartbeat.
 */

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const dayBack = (back: number) => new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10);

const REPORTS = /* GraphQL */ `
  query Reports {
    overview(range: { days: 30 }, compareTo: PREVIOUS_PERIOD) { totalRevenue totalOrders dataAsOf previous { totalOrders dataAsOf } }
    revenueTimeseries(range: { days: 30 }) { series { date revenue orders } dataAsOf }
    topProducts(range: { days: 30 }) { products { itemId revenue quantity } dataAsOf }
    funnel(range: { days: 30 }) { steps { name count } dataAsOf }
    ingestionStats(range: { days: 30 }) { accepted stored dataAsOf }
    userJourney(userId: "buyer-1") { events { eventType transactionId } dataAsOf }
  }
`;

type Answer = Record<string, Record<string, unknown> & { dataAsOf: string }>;

/** The answer without its dataAsOf stamps: what must equal the primary's. */
const numbers = (answer: Answer) => JSON.parse(JSON.stringify(answer, (key, value) => (key === "dataAsOf" ? undefined : value)));

if (process.env.MYSQL_TEST_URL) describe("reports from a read replica", () => {
  let primary: ThrowawayMariadb;
  let replica: ThrowawayMariadb;
  let dir: string;
  let shop: CreatedAppspace;
  let withReplica: ServerProcess;
  let primaryOnly: ServerProcess;
  let sent = 0;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "replicas-"));
    primary = await ThrowawayMariadb.create({ serverId: 1 });
    replica = await ThrowawayMariadb.create({ serverId: 2, replicaOf: primary });
    const env = { DATABASE_URL: primary.url, AUDIT_SECRET_FILE: path.join(dir, "audit.key") };
    const db = await openDatabase(loadConfig(env));
    shop = await createAppspace(db, { name: "replicated", currency: "USD" });
    await db.destroy();
    const common = { ...env, NODE_ENV: "production", LOG_LEVEL: "info", ROLLUP_REFRESH_MS: "200" };
    [withReplica, primaryOnly] = await Promise.all([
      startServerProcess({ ...common, DATABASE_READ_URLS: replica.url, REPLICA_MAX_LAG_SECONDS: "3" }),
      startServerProcess(common),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([withReplica, primaryOnly].map(s => s?.stop()));
    await Promise.all([replica, primary].map(s => s?.destroy()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Purchases of two buyers on the last `days` days, sent to the primary through the server with the replica. */
  async function purchases(days: number): Promise<void> {
    const events = Array.from({ length: days }, (_, i) => ({
      eventType: "PURCHASE", userId: `buyer-${i % 2}`, transactionId: `order-${sent + i}`, revenue: 10 + i, currency: "USD",
      timestamp: `${dayBack(1 + (i % 7))}T12:00:00Z`, items: [{ itemId: `sku-${i % 3}`, price: 10 + i, quantity: 1 }],
    }));
    const res = await gqlAt(withReplica.url, shop.publishableKey, TRACK_EVENTS, { events });
    expect(res.data.trackEvents.accepted).toBe(days);
    sent += days;
  }

  /** Waits until the replica holds every order sent. */
  async function caughtUp(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const rows = (await replica.admin("SELECT COUNT(*) AS n FROM analytics.orders").catch(() => [{ n: -1 }])) as { n: number }[];
      if (Number(rows[0].n) === sent) return;
      await sleep(100);
    }
    throw new Error("the replica did not catch up in 10 s");
  }

  let requests = 0;
  let lastRequest = "";
  const reportsOf = async (server: ServerProcess): Promise<Answer> => {
    lastRequest = `reports-${++requests}`;
    const res = await fetch(server.url, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${shop.secretKey}`, "x-request-id": lastRequest },
      body: JSON.stringify({ query: REPORTS }),
    });
    const body = (await res.json()) as { data: Answer; errors?: unknown };
    expect([res.status, body.errors]).toEqual([200, undefined]);
    return body.data;
  };

  /** Where the server with the replica read the last Reports query from (its request's log line). */
  async function lastReadFrom(): Promise<string | undefined> {
    for (let i = 0; i < 50; i++) {
      const line = logLines(withReplica.out()).find(l => l.requestId === lastRequest);
      if (line) return line.readFrom;
      await sleep(20);
    }
    throw new Error(`no log line for ${lastRequest}`);
  }

  /** Waits for the server with the replica to log this about replica 1. */
  async function logged(message: string, after: number): Promise<Record<string, unknown>> {
    for (let i = 0; i < 100; i++) {
      const line = logLines(withReplica.out()).slice(after).find(l => l.msg === message && l.replica === 1);
      if (line) return line;
      await sleep(100);
    }
    throw new Error(`not logged: ${message}`);
  }

  /** The replica serves again (logged after line `mark`), and once caught up it answers with every order sent. */
  async function servesAgain(mark: number, orders: number): Promise<void> {
    await logged("replica serves reads", mark);
    await caughtUp();
    const back = await reportsOf(withReplica);
    expect(await lastReadFrom()).toBe("replica 1");
    expect(back.overview.totalOrders).toBe(orders);
  }

  it("answers from the replica, equal to the primary's, with everything stored before its dataAsOf; dataAsOf moves", async () => {
    await logged("replica serves reads", 0);
    await purchases(12);
    // The first answer whose dataAsOf is past the moment the purchases were stored counts them all.
    const stored = Date.now();
    let fromReplica = await reportsOf(withReplica);
    let answeredAt = Date.now();
    for (let i = 0; i < 100 && Date.parse(fromReplica.overview.dataAsOf) <= stored; i++) {
      await sleep(50);
      fromReplica = await reportsOf(withReplica);
      answeredAt = Date.now();
    }
    expect(Date.parse(fromReplica.overview.dataAsOf)).toBeGreaterThan(stored);
    expect(await lastReadFrom()).toBe("replica 1");
    expect(numbers(fromReplica)).toEqual(numbers(await reportsOf(primaryOnly)));
    expect(fromReplica.overview.totalOrders).toBe(12);
    expect(fromReplica.userJourney.events).toHaveLength(6);
    // One stamp for the whole answer, the previous period's too: at most a few seconds old.
    const stamps = new Set([...Object.values(fromReplica).map(r => r.dataAsOf), (fromReplica.overview.previous as { dataAsOf: string }).dataAsOf]);
    expect(stamps.size).toBe(1);
    const first = Date.parse(fromReplica.overview.dataAsOf);
    expect(answeredAt - first).toBeLessThan(3000);
    // The primary's heartbeat moves every second; the replica's stamp follows it.
    let later = first;
    let laterAt = answeredAt;
    for (let i = 0; i < 50 && later <= first; i++) {
      await sleep(100);
      later = Date.parse((await reportsOf(withReplica)).overview.dataAsOf);
      laterAt = Date.now();
    }
    expect(later).toBeGreaterThan(first);
    expect(laterAt - later).toBeLessThan(3000);
  });

  it("skips a replica lagging more than REPLICA_MAX_LAG_SECONDS, and reads from it again once it has caught up", async () => {
    const mark = logLines(withReplica.out()).length;
    await replica.admin("STOP SLAVE");
    await replica.admin("CHANGE MASTER TO MASTER_DELAY = 8");
    await replica.admin("START SLAVE");
    await purchases(4);
    const skipped = await logged("replica skipped: reads go to the others or the primary", mark);
    expect(skipped).toMatchObject({ why: "lagging", maxLagSeconds: 3 });
    const fromPrimary = await reportsOf(withReplica);
    const answeredAt = Date.now();
    expect(await lastReadFrom()).toBe("primary");
    expect(fromPrimary.overview.totalOrders).toBe(16);
    expect(numbers(fromPrimary)).toEqual(numbers(await reportsOf(primaryOnly)));
    expect(answeredAt - Date.parse(fromPrimary.overview.dataAsOf)).toBeLessThan(1000);

    const undelayed = logLines(withReplica.out()).length;
    await replica.admin("STOP SLAVE");
    await replica.admin("CHANGE MASTER TO MASTER_DELAY = 0");
    await replica.admin("START SLAVE");
    await servesAgain(undelayed, 16);
  }, 60_000);

  it("answers from the primary within 2 s when the replica hangs, and from the replica once it answers again", async () => {
    const mark = logLines(withReplica.out()).length;
    replica.pause();
    try {
      const started = Date.now();
      expect((await reportsOf(withReplica)).overview.totalOrders).toBe(16);
      const answeredAt = Date.now();
      expect(await lastReadFrom()).toBe("primary");
      expect(answeredAt - started).toBeLessThan(3500);
      expect(await logged("replica skipped: reads go to the others or the primary", mark)).toMatchObject({ why: "unreachable" });
    } finally {
      replica.resume();
    }
    await servesAgain(mark, 16);
  }, 60_000);

  it("answers from the primary while the replica is down, and from the replica once it is back", async () => {
    const mark = logLines(withReplica.out()).length;
    await replica.stop();
    // Asked at once: the replica's connection fails, and the primary answers that read.
    const during = await reportsOf(withReplica);
    expect(await lastReadFrom()).toBe("primary");
    expect(await logged("replica skipped: reads go to the others or the primary", mark)).toMatchObject({ why: "unreachable" });
    await purchases(3);
    const fromPrimary = await reportsOf(withReplica);
    expect(await lastReadFrom()).toBe("primary");
    expect([during.overview.totalOrders, fromPrimary.overview.totalOrders]).toEqual([16, 19]);
    expect(numbers(fromPrimary)).toEqual(numbers(await reportsOf(primaryOnly)));

    await replica.start();
    await servesAgain(mark, 19);
  }, 60_000);
});
