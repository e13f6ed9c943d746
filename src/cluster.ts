import cluster from "node:cluster";
import http from "node:http";
import { AggregatorRegistry } from "prom-client";
import { Config } from "./config";
import { demoAppspace, printDemo } from "./demo";
import { log } from "./log";
import { openDatabase } from "./open-database";

/*
 * WORKERS=N (N > 1): this process is the primary of a node:cluster. It migrates the database and makes the demo
 * appspace once, before any worker starts (so workers never race on either), then starts N workers, each a whole
 * server (src/index.ts) sharing the port. Background work runs in every worker and coordinates through the database
 * as separate processes do. The primary serves the workers' metrics, summed, on METRICS_PORT; a worker that dies is
 * replaced; a signal stops every worker in order (each finishes what it has in flight) and then the primary.
 */

/** The message a worker takes as a shutdown signal (src/index.ts), so that a worker also signalled itself stops once. */
export const SHUTDOWN_MESSAGE = "shutdown";

export async function runPrimary(config: Config): Promise<void> {
  const db = await openDatabase(config);
  const demo = await demoAppspace(db, config);
  await db.destroy();
  const metrics = await serveClusterMetrics(config.metricsPort!);

  let stopping = false;
  let failed = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  let listening = 0;
  cluster.on("listening", (_worker, address) => {
    if (++listening !== config.workers) return;
    log.info({ scope: "cluster", workers: config.workers, metricsPort: config.metricsPort }, `cluster ready: ${config.workers} workers on port ${address.port}`);
    if (demo) printDemo(demo, `http://localhost:${address.port}/graphql`);
  });
  cluster.on("exit", (_worker, code, signal) => {
    if (!stopping) {
      // After a second: a worker that cannot start (its database unreachable) is not restarted in a tight loop.
      log.error({ scope: "cluster", code, signal }, "a worker exited; starting another in a second");
      setTimeout(() => stopping || cluster.fork(), 1000);
      return;
    }
    // How the workers ended their shutdown: the cluster's exit code.
    failed ||= code !== 0;
    if (Object.keys(cluster.workers ?? {}).length > 0) return;
    metrics.close();
    log.info({ scope: "cluster", failed }, "cluster stopped");
    process.exit(failed ? 1 : 0);
  });
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ scope: "cluster", signal }, "stopping the workers");
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send(SHUTDOWN_MESSAGE);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** GET /metrics on `port`: every worker's registries (AggregatorRegistry.setRegistries in each), summed or as each says. */
async function serveClusterMetrics(port: number): Promise<http.Server> {
  const aggregator = new AggregatorRegistry();
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") return void res.writeHead(404).end();
    aggregator.clusterMetrics().then(
      text => res.writeHead(200, { "content-type": aggregator.contentType }).end(text),
      err => {
        log.warn({ scope: "cluster", error: err instanceof Error ? err.message : String(err) }, "the workers' metrics could not be read");
        res.writeHead(503).end("workers' metrics not available\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, resolve);
  });
  return server;
}
