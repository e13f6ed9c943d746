import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ChildProcess } from "node:child_process";
import { createAppspace, createKey, updateSettings } from "../appspaces/appspace.service";
import { parseFlags } from "../cli";
import { loadConfig } from "../config";
import { log } from "../log";
import { openDatabase } from "../open-database";
import { refreshRollups } from "../read-models";
import { generate } from "./generate";
import { ThrowawayMariadb } from "./mariadbd";
import { Failures, load, percentile, post, REPORTS, SCALING_END, SCALING_START, scalingSectionOf, spawnReady, timed, TRACK_EVENT, TRACK_EVENTS } from "./measure";
import { benchEvents } from "./rows";

/*
 * npm run bench:scaling -- [--events 200000] [--seconds 20] [--runs 20] [--budget 15]
 *
 * Several processes and a read replica, in one run on throwaway MariaDB servers of its own (a primary with its binary
 * log on, and a replica of it): the reports' latency through a server reading the primary and through one reading the
 * replica (DATABASE_READ_URLS), on the same data, with their answers compared; then batch and single ingest with
 * WORKERS=1 and WORKERS=2 against that primary. The section "Several processes and a read replica" of BENCHMARKS.md is
 * rewritten with the figures (npm run bench keeps it).
 */

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));

/** The answer without dataAsOf: what must be equal from the primary and from the replica. */
const numbersOf = (json: unknown) => JSON.stringify(json, (key, value) => (key === "dataAsOf" ? undefined : value));

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>(resolve => child.once("exit", resolve));
  child.kill("SIGTERM");
  return exited;
}

/** Waits until the replica holds as many events as the primary. */
async function caughtUp(primary: ThrowawayMariadb, replica: ThrowawayMariadb): Promise<void> {
  const count = async (server: ThrowawayMariadb) => Number(((await server.admin("SELECT COUNT(*) AS n FROM analytics.events")) as { n: number }[])[0].n);
  const want = await count(primary);
  const until = Date.now() + 600_000;
  while ((await count(replica)) !== want) {
    if (Date.now() > until) throw new Error("the replica did not catch up within 10 minutes");
    await new Promise(r => setTimeout(r, 500));
  }
}

/** Whether the server's /metrics says replica 1 serves reads. */
async function replicaServes(serverUrl: string): Promise<boolean> {
  const text = await (await fetch(serverUrl.replace(/\/graphql$/, "/metrics"))).text();
  return /^db_replica_serving\{replica="1"\} 1$/m.test(text);
}

async function main() {
  log.level = "warn";
  const flags = parseFlags(process.argv.slice(2));
  const events = Number(flags.events ?? 200_000);
  const seconds = Number(flags.seconds ?? 20);
  const runs = Number(flags.runs ?? 20);
  const budget = Number(flags.budget ?? 15);

  const primary = await ThrowawayMariadb.create({ serverId: 1, bufferPool: "256M" });
  const replica = await ThrowawayMariadb.create({ serverId: 2, replicaOf: primary, bufferPool: "256M" });
  const children: ChildProcess[] = [];
  try {
    const db = await openDatabase(loadConfig({ DATABASE_URL: primary.url }));
    const space = await createAppspace(db, { name: "bench-scaling", currency: "EUR", retentionDays: 3650 });
    const t = Date.now();
    await generate(db, space.appspaceId, { events, seed: events });
    await refreshRollups(db, { waitSeconds: 60 });
    const { key: secretKey } = await createKey(db, space.appspaceId, "secret");
    console.error(`generated and rolled up ${events} events in ${Math.round((Date.now() - t) / 1000)} s`);
    await caughtUp(primary, replica);

    // Reports: the same queries through a server on the primary and through one reading the replica.
    const common = { DATABASE_URL: primary.url, PORT: "0", NODE_ENV: "production" };
    const ready = /ready at (http:\/\/\S+?\/graphql)/;
    const onPrimary = await spawnReady("src/index.ts", common, ready);
    const onReplica = await spawnReady("src/index.ts", { ...common, DATABASE_READ_URLS: replica.url }, ready);
    children.push(onPrimary.child, onReplica.child);
    const [primaryUrl, replicaUrl] = [onPrimary.match[1], onReplica.match[1]];
    if (!(await replicaServes(replicaUrl))) throw new Error("the replica does not serve reads");
    const lines: string[] = [];
    const row = (...cells: (string | number)[]) => lines.push(`| ${cells.join(" | ")} |`);
    const timedReport = (url: string, query: string) => timed(() => post(url, secretKey, { query }), runs, budget);
    row("report", "primary p50 ms", "primary p95 ms", "replica p50 ms", "replica p95 ms", "same answer");
    row("---", "---", "---", "---", "---", "---");
    for (const [name, query] of Object.entries(REPORTS)) {
      const [fromPrimary, fromReplica] = [await post(primaryUrl, secretKey, { query }), await post(replicaUrl, secretKey, { query })];
      const [p, r] = [await timedReport(primaryUrl, query), await timedReport(replicaUrl, query)];
      row(name, fmt(percentile(p, 50)), fmt(percentile(p, 95)), fmt(percentile(r, 50)), fmt(percentile(r, 95)), numbersOf(fromPrimary) === numbersOf(fromReplica) ? "yes" : "NO");
      console.error(lines.at(-1));
    }
    const replicaServedThroughout = await replicaServes(replicaUrl);
    await Promise.all([stop(onPrimary.child), stop(onReplica.child)]);

    // Ingest with WORKERS=1 and WORKERS=2, one after the other, on the same primary.
    lines.push("");
    row("ingest", "WORKERS=1", "WORKERS=2");
    row("---", "---", "---");
    const results: Record<string, string[]> = { batch: [], single: [], p99: [], failures: [] };
    for (const workers of ["1", "2"]) {
      const clustered = workers === "1" ? { PORT: "0" } : { WORKERS: workers, PORT: "4793", METRICS_PORT: "4794" };
      const server = await spawnReady("src/index.ts", { ...common, ...clustered }, ready);
      children.push(server.child);
      const url = server.match[1];
      const ingest = await createAppspace(db, { name: `bench-scaling-ingest-${workers}`, currency: "EUR" });
      await updateSettings(db, ingest.appspaceId, { requestLimit: 1_000_000_000, monthlyEventQuota: null, purchasesPerMinute: 1_000_000 });
      const failures = new Failures();
      const batch = await load(8, seconds, async n => {
        const answer = (await failures.post(url, ingest.publishableKey, { query: TRACK_EVENTS, variables: { events: benchEvents(n) } }))?.data?.trackEvents;
        return answer?.accepted ?? 0;
      });
      const single = await load(8, seconds, async n => {
        const answer = (await failures.post(url, ingest.publishableKey, { query: TRACK_EVENT, variables: { event: benchEvents(5_000_000 + n, 1)[0] } }))?.data?.trackEvent;
        return answer?.ok ? 1 : 0;
      });
      results.batch.push(fmt(batch.perSecond));
      results.single.push(fmt(single.perSecond));
      results.p99.push(fmt(single.p99));
      results.failures.push(failures.describe());
      console.error(`WORKERS=${workers}: batch ${fmt(batch.perSecond)} events/s, single ${fmt(single.perSecond)} requests/s`);
      await stop(server.child);
    }
    row("batch events/s (trackEvents, 100 events x 3 items, concurrency 8)", ...results.batch);
    row("single requests/s (trackEvent, concurrency 8)", ...results.single);
    row("single p99 ms", ...results.p99);
    row("failures", ...results.failures);
    await db.destroy();

    const [version] = (await primary.admin("SELECT VERSION() AS v")) as { v: string }[];
    const section = [
      SCALING_START,
      "## Several processes and a read replica",
      "",
      `Run on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, two throwaway MariaDB ${version.v} servers (a primary with its binary log on and a replica of it, 256 MiB buffer pool each), the servers and the load, all on one machine.`,
      "",
      `Command: \`npm run bench:scaling -- --events ${events} --seconds ${seconds} --runs ${runs} --budget ${budget}\`. ${events.toLocaleString("en-US")} generated events in one appspace, rolled up and replicated before the reports are timed. Each report is timed through a server reading the primary and through one reading the replica (\`DATABASE_READ_URLS\`; it read the replica throughout: ${replicaServedThroughout ? "yes" : "NO"}); "same answer" compares their answers. Then ingest runs ${seconds} s batch and ${seconds} s single against the primary, with \`WORKERS=1\` and then \`WORKERS=2\`.`,
      "",
      ...lines,
      SCALING_END,
    ].join("\n");
    writeSection(section);
    console.log(section);
  } finally {
    await Promise.all(children.map(stop));
    await replica.destroy();
    await primary.destroy();
  }
}

/** Replaces the scaling section of BENCHMARKS.md (or appends it), leaving the rest as it is. */
function writeSection(section: string): void {
  const file = path.resolve("BENCHMARKS.md");
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n";
  const old = scalingSectionOf(text);
  const rest = old ? text.replace(old, "") : text;
  fs.writeFileSync(file, `${rest.trimEnd()}\n\n${section}\n`);
}

main().then(
  () => process.exit(0),
  err => {
    console.error(err);
    process.exit(1);
  },
);
