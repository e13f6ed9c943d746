import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import { createAppspace, updateSettings } from "../src/appspaces/appspace.service";
import { loadConfig } from "../src/config";
import { createDataSource } from "../src/data-source";
import { openDatabase } from "../src/open-database";
import { dbTargets } from "./helpers/databases";
import { LoadResult, runLoad } from "./helpers/load";
import { ThrowawayMariadb } from "./helpers/mariadbd";
import { logLines, logMessages, ServerProcess, startServerProcess } from "./helpers/process";

/*
 * A partner's workers against a real server process (started as `npm start` starts it): batches of 100 events at
 * concurrency 16, a third of them people never seen before, a third merging people seen before. Whatever happens to
 * the server or its database, an answer is 200, or 503 with Retry-After (retry: safe, as every event has an
 * eventId); an event acknowledged is stored, and none is stored twice.
 */

const TAG = "zq7k"; // every id the load sends starts with it
const LOAD_SECONDS = 60;
const REPORT = "{ overview { totalOrders } }";
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** One appspace whose limits let the load through, made before the server starts (so it makes no demo appspace). */
async function prepare(env: NodeJS.ProcessEnv) {
  const db = await openDatabase(loadConfig(env));
  const space = await createAppspace(db, { name: "partner", currency: "USD" });
  await updateSettings(db, space.appspaceId, { requestLimit: 1_000_000_000, monthlyEventQuota: null, purchasesPerMinute: 1_000_000 });
  await db.destroy();
  return space;
}

/** The eventIds stored, with how many items each has. */
async function stored(env: NodeJS.ProcessEnv, appspaceId: number): Promise<Map<string, number>> {
  const db = createDataSource(loadConfig(env));
  await db.initialize();
  try {
    const rows: { event_id: string; items: unknown }[] = await db.query(
      "SELECT e.event_id, (SELECT COUNT(*) FROM event_items i WHERE i.event_row_id = e.id) AS items FROM events e WHERE e.appspace_id = ?", [appspaceId]);
    const byId = new Map(rows.map(r => [r.event_id, Number(r.items)]));
    expect(byId.size).toBe(rows.length); // no eventId twice
    return byId;
  } finally {
    await db.destroy();
  }
}

/** Every event acknowledged is stored once, with its 3 items. */
async function expectAcknowledgedStored(env: NodeJS.ProcessEnv, appspaceId: number, load: LoadResult) {
  const byId = await stored(env, appspaceId);
  const lost = [...load.acknowledged].filter(id => byId.get(id) !== 3);
  expect({ acknowledged: load.acknowledged.size, lostOrIncomplete: lost.slice(0, 5) }).toEqual({ acknowledged: load.acknowledged.size, lostOrIncomplete: [] });
  expect(load.acknowledged.size).toBeGreaterThan(0);
}

/** Answers other than 200 and 503 (0: no answer at all), for the requests `which` selects. */
const unexpected = (load: LoadResult, which = (_r: LoadResult["requests"][number]) => true) =>
  load.requests.filter(r => which(r) && r.status !== 200 && r.status !== 503);

describe.each(dbTargets())("ingest under concurrent load and faults on $name", target => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let drop: () => Promise<void>;
  let space: Awaited<ReturnType<typeof prepare>>;
  let server: ServerProcess | null = null;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "faults-"));
    const created = await target.create();
    drop = created.drop;
    // As in production: jest's NODE_ENV=test would hide what only production does (Apollo's own signal handlers did).
    env = { DATABASE_URL: created.databaseUrl ?? "", SQLITE_PATH: path.join(dir, "db.sqlite"), ROLLUP_REFRESH_MS: "1000", NODE_ENV: "production" };
    space = await prepare(env);
  });
  afterEach(async () => {
    if (server) {
      await server.stop();
      logs.push(server.out());
      server = null;
    }
  });
  afterAll(async () => {
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`${LOAD_SECONDS} s of batches of new and merging people at concurrency 16: every answer 200, every event stored once`, async () => {
    server = await startServerProcess(env);
    const load = await runLoad({ url: server.url, key: space.publishableKey, tag: `${TAG}-a`, concurrency: 16, seconds: LOAD_SECONDS });
    expect({ statuses: [...load.statuses], eventErrors: load.eventErrors, samples: load.samples }).toEqual({ statuses: [[200, load.batches]], eventErrors: 0, samples: [] });
    expect(load.batches).toBeGreaterThan(100);
    await expectAcknowledgedStored(env, space.appspaceId, load);
  }, (LOAD_SECONDS + 60) * 1000);

  /** Starts a server with `extra` env and a load on it, sends SIGTERM after `afterMs`; its exit code, the load, when the signal went. */
  async function signalDuringLoad(extra: NodeJS.ProcessEnv, tag: string, afterMs: number) {
    server = await startServerProcess({ ...env, ...extra });
    const child = server.child;
    const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
    let gone = false;
    void exited.then(() => (gone = true));
    const running = runLoad({ url: server.url, key: space.publishableKey, tag, concurrency: 16, seconds: 30, stop: () => gone });
    await sleep(afterMs);
    const signalAt = Date.now();
    child.kill("SIGTERM");
    const [code, load] = await Promise.all([exited, running]);
    return { code, load, signalAt };
  }

  it("SIGTERM during the load: requests in flight are answered (200 or 503), acknowledged events are stored, exit 0", async () => {
    const { code, load, signalAt } = await signalDuringLoad({}, `${TAG}-b`, 3000);
    expect(code).toBe(0);
    const inFlight = load.requests.filter(r => r.sentAt < signalAt && r.answeredAt >= signalAt);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(unexpected(load, r => r.sentAt < signalAt)).toEqual([]);
    expect(logMessages(server!.out())).toContain("shutdown done");
    await expectAcknowledgedStored(env, space.appspaceId, load);
  }, 60_000);

  it("a shutdown that outlasts SHUTDOWN_TIMEOUT_MS logs what it abandoned and exits 1", async () => {
    const { code, load } = await signalDuringLoad({ SHUTDOWN_TIMEOUT_MS: "1" }, `${TAG}-t`, 1500);
    expect(code).toBe(1);
    const abandoned = logLines(server!.out()).find(l => l.scope === "shutdown" && l.level === "error");
    expect(abandoned).toMatchObject({ msg: "shutdown abandoned: not done after 1 ms", requestsAbandoned: expect.any(Number) });
    expect(abandoned!.workersNotStopped).toEqual(expect.arrayContaining([expect.stringMatching(/^(deletions|rollups|retention)$/)]));
    await expectAcknowledgedStored(env, space.appspaceId, load);
  }, 60_000);

  if (target.name === "mariadb") {
    it("every connection of the server's pool killed during the load: 503 with Retry-After or 200, 200 again within 5 s", async () => {
      server = await startServerProcess(env);
      const dbName = new URL(env.DATABASE_URL!).pathname.slice(1);
      const admin = await mysql.createConnection(env.DATABASE_URL!);
      let killedAt = 0;
      let killed = 0;
      let killing = true;
      const killer = (async () => {
        try {
          await sleep(2000);
          for (let round = 0; round < 5; round++) {
            const [rows] = (await admin.query("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()", [dbName])) as unknown as [{ ID: number }[]];
            for (const { ID } of rows) await admin.query(`KILL ${Number(ID)}`).then(() => killed++, () => undefined);
            killedAt = Date.now();
            await sleep(300);
          }
        } finally {
          killing = false;
        }
      })();
      // Until 6 s after the last kill, however long the kills took.
      const load = await runLoad({
        url: server.url, key: space.publishableKey, tag: `${TAG}-c`, concurrency: 16, seconds: 30,
        stop: () => !killing && Date.now() > killedAt + 6000,
      });
      await killer.finally(() => admin.end());
      expect(killed).toBeGreaterThan(5);
      expect({ unexpected: unexpected(load), samples: load.samples.filter(s => !s.startsWith("503")) }).toEqual({ unexpected: [], samples: [] });
      if (load.statuses.get(503)) expect(load.retryAfter).toBe("2");
      const firstOkAfter = load.requests.filter(r => r.status === 200 && r.sentAt > killedAt).map(r => r.answeredAt).sort((a, b) => a - b)[0];
      expect(firstOkAfter - killedAt).toBeLessThan(5000);
      await expectAcknowledgedStored(env, space.appspaceId, load);
    }, 60_000);

    it("a database stopped for 5 s during the load: 503 with Retry-After while it is gone, 200 within 5 s after it is back", async () => {
      const mariadbd = await ThrowawayMariadb.create();
      const own = { DATABASE_URL: mariadbd.url, ROLLUP_REFRESH_MS: "1000", NODE_ENV: "production" };
      try {
        const ownSpace = await prepare(own);
        server = await startServerProcess(own);
        const window = { stoppedAt: 0, startedAt: 0 };
        const reads: { status: number; retryAfter: string | null }[] = [];
        const read = async () => {
          const res = await fetch(server!.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ownSpace.secretKey}` }, body: JSON.stringify({ query: REPORT }) });
          reads.push({ status: res.status, retryAfter: res.headers.get("retry-after") });
        };
        const outage = (async () => {
          await sleep(3000);
          await mariadbd.stop();
          window.stoppedAt = Date.now();
          await sleep(1000);
          await read();
          await sleep(4000);
          await mariadbd.start();
          window.startedAt = Date.now();
        })();
        // Until 6 s after the database is back, however long it took to stop and start.
        const load = await runLoad({
          url: server.url, key: ownSpace.publishableKey, tag: `${TAG}-d`, concurrency: 16, seconds: 60,
          stop: () => window.startedAt > 0 && Date.now() > window.startedAt + 6000,
        });
        await outage;
        const during = load.requests.filter(r => r.sentAt > window.stoppedAt && r.answeredAt < window.startedAt);
        expect(during.length).toBeGreaterThan(10);
        expect([...new Set(during.map(r => r.status))]).toEqual([503]);
        expect(load.retryAfter).toBe("2");
        expect(unexpected(load)).toEqual([]);
        const firstOkAfter = load.requests.filter(r => r.status === 200 && r.sentAt >= window.startedAt).map(r => r.answeredAt).sort((a, b) => a - b)[0];
        expect(firstOkAfter - window.startedAt).toBeLessThan(5000);
        // Reads too: 503 while it is gone, then answered from the data written before and after.
        await read();
        expect(reads).toEqual([{ status: 503, retryAfter: "2" }, { status: 200, retryAfter: null }]);
        // One line when it went away and one when it was back, not one per request.
        const messages = logMessages(server.out());
        expect(messages.filter(m => m.startsWith("database unreachable"))).toHaveLength(1);
        expect(messages.filter(m => m === "database reachable again")).toHaveLength(1);
        await server.stop();
        await expectAcknowledgedStored(own, ownSpace.appspaceId, load);
      } finally {
        await server?.stop();
        await mariadbd.destroy();
      }
    }, 120_000);
  }

  it("the server's logs hold none of the ids sent (people, devices, orders, events)", () => {
    const all = logs.join("\n");
    expect(logs.length).toBeGreaterThanOrEqual(target.name === "mariadb" ? 5 : 3);
    expect(all).not.toContain(TAG);
    expect(all).not.toMatch(/internal error/);
  });
});
