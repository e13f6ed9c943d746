import "reflect-metadata";
import cluster from "node:cluster";
import { AggregatorRegistry } from "prom-client";
import { Config, loadConfig, loadEnvFile } from "./config";
import { openDatabase } from "./open-database";
import { loadAuditSecret } from "./identity/audit-secret";
import { configureLog, describeFailure, isDatabaseFailure, log, logFailure } from "./log";
import { createServer, RunningServer } from "./server";
import { runPrimary, SHUTDOWN_MESSAGE } from "./cluster";
import { demoAppspace, printDemo } from "./demo";
import { ensureDashboard } from "./ops/dashboard";

/**
 * Start-up: config -> log -> (the primary of a cluster, with WORKERS above 1: src/cluster.ts) -> database (migrations)
 * -> demo appspace on an empty database -> HTTP server.
 */
async function main() {
  const started = performance.now();
  loadEnvFile();
  const config = loadConfig();
  configureLog(config.logLevel, { pretty: !config.production && process.stdout.isTTY });
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config);
  if (!config.production && cluster.isPrimary) await ensureDashboard();
  const db = await openDatabase(config);
  // In a cluster the primary made the demo appspace, before any worker started.
  const demo = cluster.isWorker ? null : await demoAppspace(db, config);

  const server = await createServer(db, {
    production: config.production, deletion: config.deletion, rateLimitWindowSeconds: config.rateLimitWindowSeconds, rollupRefreshMs: config.rollupRefreshMs,
    retentionPurgeMs: config.retentionPurgeMs, auditSecret: loadAuditSecret(config.auditSecret, config.auditSecretFile), trustProxy: config.trustProxy,
    corsOrigins: config.corsOrigins, introspection: config.introspection, explorer: config.explorer, metricsPort: config.metricsPort, rates: config.rates,
    redis: config.redis, replicas: config.replicas, serveMetrics: !cluster.isWorker,
  });
  // A worker's metrics go to the primary, which serves them all (an instance makes prom-client answer its requests).
  if (cluster.isWorker) {
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries(server.metricsRegistries);
  }
  const running = await server.listen(config.port);
  const database = config.databaseUrl ? "mysql" : "sqlite";
  const metrics = cluster.isWorker ? `primary, port ${config.metricsPort}` : running.metricsUrl;
  log.info({ scope: "server", database, metrics, startupMs: Math.round(performance.now() - started) }, `GraphQL server ready at ${running.url}`);
  if (demo) printDemo(demo, running.url);
  handleSignals(config, running, () => db.destroy());
}

/**
 * A shutdown finishes what is in flight (RunningServer.stop); past SHUTDOWN_TIMEOUT_MS, or at a second signal, it
 * gives up: logs what it abandoned and exits 1.
 */
function handleSignals(config: Config, running: RunningServer, closeDatabase: () => Promise<void>): void {
  let stopping = false;
  const abandon = (why: string) => {
    const left = running.pending();
    log.error({ scope: "shutdown", requestsAbandoned: left.requests, workersNotStopped: left.workers }, `shutdown abandoned: ${why}`);
    process.exit(1);
  };
  const shutdown = async (signal: string) => {
    if (stopping) return abandon(`${signal} again`);
    stopping = true;
    log.info({ scope: "shutdown", signal, timeoutMs: config.shutdownTimeoutMs }, "shutting down: finishing the requests in flight");
    const deadline = setTimeout(() => abandon(`not done after ${config.shutdownTimeoutMs} ms`), config.shutdownTimeoutMs);
    try {
      await running.stop();
      await closeDatabase();
    } catch (err) {
      logFailure("shutdown", "shutdown failed", err);
      process.exit(1);
    }
    clearTimeout(deadline);
    log.info({ scope: "shutdown" }, "shutdown done");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // A cluster's primary asks its workers to stop; a worker already stopping (a terminal's Ctrl-C reaches every process
  // of the group) goes on as it was.
  process.on("message", message => {
    if (message === SHUTDOWN_MESSAGE && !stopping) void shutdown("cluster shutdown");
  });
}

/**
 * Why the start failed, for its log line: a port taken as Node says it (the port is the operator's); a database's
 * error as its code only (its message may name a user and an address: "Access denied for user 'u'@'10.…'"); a
 * configuration error as its message.
 */
function startFailure(err: unknown): string {
  if ((err as { syscall?: unknown })?.syscall === "listen") return (err as Error).message;
  if (isDatabaseFailure(err)) return describeFailure(err);
  return err instanceof Error ? err.message : String(err);
}

main().catch(err => {
  log.fatal({ scope: "server", error: startFailure(err) }, "start failed");
  process.exit(1);
});
