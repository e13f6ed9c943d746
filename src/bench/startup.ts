import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startArgs } from "../start-command";

/*
 * `npm run bench:startup`: how long `npm start` (TypeScript through tsx) and `npm run start:prod` (node on dist/, after
 * `npm run build`) take from the process's spawn to their first ready answer (GET /health/ready 200), and their
 * resident memory then and after 1,000 report requests. Each start runs 5 times on one migrated SQLite file; the
 * medians are printed as a table.
 */

const ROOT = path.join(__dirname, "..", "..");
const RUNS = 5;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

interface Run {
  readyMs: number;
  rssAtReady: number;
  rssAfterLoad: number;
}

/** One start: spawn, poll readiness every 5 ms, read RSS, send 1,000 overview requests, read RSS, stop. */
async function startOnce(which: "start" | "start:prod", env: NodeJS.ProcessEnv, port: number): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, startArgs(undefined, which), { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", d => (out += d));
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${base}/health/ready`).then(r => r.status === 200, () => false);
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`${which} exited: ${out}`);
    await sleep(5);
  }
  const readyMs = performance.now() - started;
  const rssAtReady = rssMiB(child.pid!);
  const key = /secret key:\s+(sk_\S+)/.exec(out)?.[1] ?? env.BENCH_KEY;
  for (let i = 0; i < 1000; i++) {
    await fetch(`${base}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ query: "{ overview { totalRevenue totalOrders } }" }) });
  }
  const rssAfterLoad = rssMiB(child.pid!);
  await new Promise(r => (child.once("exit", r), child.kill("SIGTERM")));
  return { readyMs, rssAtReady, rssAfterLoad };
}

async function main() {
  execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "inherit" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "startup-"));
  const env: NodeJS.ProcessEnv = { DATABASE_URL: "", SQLITE_PATH: path.join(dir, "db.sqlite"), AUDIT_SECRET_FILE: path.join(dir, "audit.key"), NODE_ENV: "development", LOG_LEVEL: "warn" };
  // The first start makes the database and the demo appspace: its key is the one every later run reads reports with.
  const first = spawn(process.execPath, startArgs(), { cwd: ROOT, env: { ...process.env, ...env, PORT: "4791" }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  first.stdout!.on("data", d => (out += d));
  while (!/secret key:\s+sk_\S+/.test(out)) await sleep(20);
  env.BENCH_KEY = /secret key:\s+(sk_\S+)/.exec(out)![1];
  await new Promise(r => (first.once("exit", r), first.kill("SIGTERM")));

  console.log(`| start | ready after (median of ${RUNS}) | RSS at ready | RSS after 1,000 reports |`);
  console.log("| --- | --- | --- | --- |");
  for (const which of ["start", "start:prod"] as const) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await startOnce(which, env, 4792 + i));
    const cell = (pick: (r: Run) => number, unit: string) => `${median(runs.map(pick)).toFixed(0)} ${unit}`;
    console.log(`| \`npm ${which === "start" ? "start" : "run start:prod"}\` | ${cell(r => r.readyMs, "ms")} | ${cell(r => r.rssAtReady, "MiB")} | ${cell(r => r.rssAfterLoad, "MiB")} |`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
