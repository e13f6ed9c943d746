import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppspace, CreatedAppspace, setRetention } from "../src/appspaces/appspace.service";
import { loadConfig } from "../src/config";
import { openDatabase } from "../src/open-database";
import { dbTargets } from "./helpers/databases";
import { DELETE_USER, TRACK_EVENTS } from "./helpers/documents";
import { gqlAt, logLines, ServerProcess, startServerProcess } from "./helpers/process";

/*
 * Background work shared by two, then three server processes on one MariaDB database under 60 s of ingest (several processes on
 * one SQLite file hold each other up: docs/operating.md, "Several server processes"): the refreshers of both processes never
 * refresh an appspace's days at once (so never one day twice at once), a deletion runs once, a retention purge deletes
 * once, and once the load stops the rollups hold exactly what was sent.
 */

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const LOAD_MS = 60_000;
const groupBy = <T, K>(items: T[], key: (item: T) => K) => {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
};
const dayBack = (back: number) => new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10);

if (process.env.MYSQL_TEST_URL) describe.each([2, 3])("background work shared by %i server processes under ingest on mariadb", processes => {
  const [, mariadb] = dbTargets();
  let env: NodeJS.ProcessEnv;
  let drop: () => Promise<void>;
  let dir: string;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "background-"));
    const created = await mariadb.create();
    drop = created.drop;
    env = { DATABASE_URL: created.databaseUrl!, AUDIT_SECRET_FILE: path.join(dir, "audit.key"), NODE_ENV: "production", LOG_LEVEL: "debug", ROLLUP_REFRESH_MS: "200", RETENTION_PURGE_MS: "1000" };
  });
  afterAll(async () => {
    await Promise.all(servers.map(s => s.stop()));
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Batches of 10 purchases of 3 USD over every process (two senders each) for LOAD_MS, each to one of the shops: in the n-th 4 s of the
   * load to the day (n mod 8) + 1 days back, so each day is written in bursts, goes quiet (the refresher waits 10 s) and
   * is refreshed while the others are written, some twice. Returns the orders each shop accepted.
   */
  async function ingestLoad(shops: CreatedAppspace[]): Promise<number[]> {
    const accepted = shops.map(() => 0);
    const started = Date.now();
    let batch = 0;
    const sender = async (server: ServerProcess) => {
      while (Date.now() - started < LOAD_MS) {
        const n = batch++;
        const shop = n % shops.length;
        const day = dayBack((Math.floor((Date.now() - started) / 4000) % 8) + 1);
        const events = Array.from({ length: 10 }, (_, i) => ({
          eventType: "PURCHASE", userId: `load-u-${(n + i) % 40}`, transactionId: `load-${n}-${i}`, eventId: `load-${n}-${i}`,
          revenue: 3, currency: "USD", timestamp: `${day}T${String(10 + (i % 10)).padStart(2, "0")}:00:00Z`,
        }));
        const res = await gqlAt(server.url, shops[shop].publishableKey, TRACK_EVENTS, { events });
        accepted[shop] += res.data?.trackEvents?.accepted ?? 0;
        await sleep(100);
      }
    };
    await Promise.all(servers.flatMap(s => [sender(s), sender(s)]));
    return accepted;
  }

  it("never refreshes one appspace's days in two processes at once, runs a deletion and a purge once, and ends exact", async () => {
    const db = await openDatabase(loadConfig(env));
    const shops = [await createAppspace(db, { name: "a", currency: "USD" }), await createAppspace(db, { name: "b", currency: "USD" }), await createAppspace(db, { name: "c", currency: "USD" })];
    const old = await createAppspace(db, { name: "old", currency: "USD" });
    await db.destroy();
    servers = await Promise.all(Array.from({ length: processes }, () => startServerProcess(env)));

    // Before the load: a person of shop 0 to delete (two purchases of 5 USD), and 5 events 20 days old in "old".
    const leaving = [1, 2].map(back => ({ eventType: "PURCHASE", userId: "leaving", transactionId: `leaving-${back}`, revenue: 5, currency: "USD", timestamp: `${dayBack(back)}T09:00:00Z` }));
    expect((await gqlAt(servers[0].url, shops[0].publishableKey, TRACK_EVENTS, { events: leaving })).data.trackEvents.accepted).toBe(2);
    const aged = Array.from({ length: 5 }, (_, i) => ({ eventType: "VIEW_ITEM", userId: `old-${i}`, timestamp: `${dayBack(20)}T08:00:00Z`, items: [{ itemId: "sku" }] }));
    expect((await gqlAt(servers[1].url, old.publishableKey, TRACK_EVENTS, { events: aged })).data.trackEvents.accepted).toBe(5);

    // The deletion and the retention cut come 20 s into the load.
    const load = ingestLoad(shops);
    await sleep(20_000);
    const deletion = (await gqlAt(servers[1].url, shops[0].secretKey, DELETE_USER, { userId: "leaving" })).data.deleteUser;
    const admin = await openDatabase(loadConfig(env));
    let loadEnded = Infinity;
    try {
      await setRetention(admin, old.appspaceId, 10);
      const accepted = await load;
      loadEnded = Date.now();
      // Every day quiet for 10 s (the refresher's wait) after the load, then refreshed; the deletion done; "old" purged.
      const settled = async () => {
        const [marks] = await admin.query("SELECT COUNT(*) AS n FROM rollup_dirty");
        const [done] = await admin.query("SELECT status FROM deletion_requests WHERE public_id = ?", [deletion.id]);
        const [left] = await admin.query("SELECT COUNT(*) AS n FROM events WHERE appspace_id = ?", [old.appspaceId]);
        return Number(marks.n) === 0 && done?.status === "DONE" && Number(left.n) === 0;
      };
      for (let i = 0; i < 300 && !(await settled()); i++) await sleep(100);
      expect(await settled()).toBe(true);
      expect(accepted.every(n => n > 1000)).toBe(true);
      // From the rollups alone (no day is stale): every order sent, once (most flagged by the velocity rule: 40 buyers), none of the deleted person's.
      const OVERVIEW = `query { overview(range: { days: 30 }, includeFlagged: true) { totalOrders totalRevenue } }`;
      const overviews = await Promise.all(shops.map((shop, i) => gqlAt(servers[i % processes].url, shop.secretKey, OVERVIEW).then(r => r.data.overview)));
      expect(overviews).toEqual(accepted.map(n => ({ totalOrders: n, totalRevenue: 3 * n })));
    } finally {
      await admin.destroy();
    }
    await Promise.all(servers.map(s => s.stop()));
    const lines = servers.flatMap((s, server) => logLines(s.out()).map(l => ({ ...l, server }) as Record<string, any>));

    // Each refresh of a day, by any process: no two of one appspace overlap in time (so none of one day).
    const refreshes = lines.filter(l => l.msg === "day refreshed") as unknown as { appspace: number; day: string; startedAt: number; durationMs: number; server: number }[];
    const byAppspace = groupBy(refreshes, r => r.appspace);
    // The shops', and the old one's purged days.
    expect([...byAppspace.keys()].sort()).toEqual([...shops, old].map(s => s.appspaceId).sort());
    for (const runs of byAppspace.values()) {
      const sorted = runs.sort((x, y) => x.startedAt - y.startedAt);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i].startedAt).toBeGreaterThanOrEqual(sorted[i - 1].startedAt + sorted[i - 1].durationMs);
    }
    // Shared: more than one process refreshed days. Refreshed while the load ran, and days refreshed more than once
    // (written again after a refresh).
    const refreshedBy = new Set(refreshes.map(r => r.server));
    expect(refreshedBy.size).toBeGreaterThan(1);
    const days = groupBy(refreshes, r => `${r.appspace}|${r.day}`);
    expect(days.size).toBeGreaterThanOrEqual(3 * 8);
    expect([...days.values()].some(runs => runs.length > 1)).toBe(true);
    expect(refreshes.filter(r => r.startedAt < loadEnded).length).toBeGreaterThanOrEqual(3 * 8);
    expect(lines.filter(l => l.msg === "deletion done")).toHaveLength(1);
    expect(lines.filter(l => l.msg === "purged events older than the appspace's retention" && l.appspace === old.appspaceId).map(l => l.events)).toEqual([5]);
  }, 150_000);
});
