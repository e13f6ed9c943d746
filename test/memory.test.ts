import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchEvents } from "../src/bench/rows";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { gqlAt, root, ServerProcess, startServerProcess, tsx } from "./helpers/process";

const MB = 1e6;
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

/** `concurrency` loops sending batches until `until`; the events accepted and the requests that failed. */
async function batchLoad(url: string, key: string, concurrency: number, until: number, events: (n: number) => unknown[]) {
  let n = 0;
  let accepted = 0;
  const failures: string[] = [];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) {
      const batch = events(n++);
      const res = await gqlAt(url, key, TRACK_EVENTS, { events: batch }).catch((err: Error & { cause?: { code?: string } }) => ({ failed: `${err.message} (${err.cause?.code})` }));
      if ("failed" in res) failures.push(res.failed);
      else if (res.data?.trackEvents?.accepted !== batch.length) failures.push(JSON.stringify(res).slice(0, 300));
      else accepted += batch.length;
    }
  }));
  return { accepted, requests: n, failures };
}

/** The server as `npm start` runs it, under sustained batch ingest (the benchmark's load, shorter). Linux only (/proc). */
describe.each(dbTargets())("server memory under batch ingest on $name", target => {
  let dir: string;
  let drop: () => Promise<void>;
  let server: ServerProcess;
  let key: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "analytics-"));
    const created = await target.create();
    drop = created.drop;
    const env = { DATABASE_URL: created.databaseUrl ?? "", SQLITE_PATH: path.join(dir, "db.sqlite"), NODE_ENV: "production" };
    // Production makes no demo appspace: one made as an operator would, before the start.
    const made = JSON.parse(execFileSync(tsx, ["src/appspaces/cli.ts", "create", "--name", "shop", "--json"], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" }));
    key = made.publishableKey;
    // As the benchmark does: no request limit, quota or purchase velocity rule in the way of the load.
    execFileSync(tsx, ["src/appspaces/cli.ts", "settings", "--appspace", String(made.appspaceId), "--set", JSON.stringify({ requestLimit: 1_000_000_000, monthlyEventQuota: null, purchasesPerMinute: 1_000_000 })],
      { cwd: root, env: { ...process.env, ...env } });
    server = await startServerProcess(env);
  });
  afterAll(async () => {
    await server.stop();
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("stays under 300 MB resident through 15 s of 100-event batches at concurrency 8", async () => {
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.child.pid!))), 100);
    const load = await batchLoad(server.url, key, 8, Date.now() + 15_000, n => benchEvents(n));
    clearInterval(sampler);
    expect(load.failures).toEqual([]);
    expect(load.requests).toBeGreaterThan(50);
    expect(load.accepted).toBe(load.requests * 100);
    expect(peak).toBeGreaterThan(50 * MB); // the sampler saw the process
    expect(peak).toBeLessThan(300 * MB);
  }, 60_000);

  it("serves the largest batches, eight at a time, and stays up", async () => {
    // 100 events of 200 items (the limits), about 0.7 MB of JSON (the body limit is 1 MB): 20,000 item rows a request.
    const largest = (n: number) => Array.from({ length: 100 }, (_, i) => ({
      eventType: "ADD_TO_CART",
      userId: `big-${n}-${i}`,
      items: Array.from({ length: 200 }, (_, k) => ({ itemId: `sku-${(n + i + k) % 5000}`, price: 12.5 })),
    }));
    expect(JSON.stringify({ query: TRACK_EVENTS, variables: { events: largest(0) } }).length).toBeGreaterThan(650_000);
    // No heap cap: memory grows with the requests in flight (about 700 MB resident on MariaDB here), and nothing fails.
    const load = await batchLoad(server.url, key, 8, Date.now() + 10_000, largest);
    expect(load.failures).toEqual([]);
    expect(load.requests).toBeGreaterThanOrEqual(8);
    expect(server.child.exitCode).toBeNull();
    const health = await fetch(server.url.replace("/graphql", "/health"));
    expect(await health.json()).toEqual({ status: "ok" });
  }, 60_000);
});
