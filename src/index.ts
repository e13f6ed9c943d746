import "reflect-metadata";
import { createAppspace, countAppspaces } from "./appspaces/appspace.service";
import { Config, loadConfig, loadEnvFile } from "./config";
import { openDatabase } from "./open-database";
import { loadAuditSecret } from "./identity/audit-secret";
import { driverError } from "./db/failures";
import { configureLog, describeFailure, log, logFailure } from "./log";
import { createServer, RunningServer } from "./server";

/** Start-up: config -> log -> database (migrations) -> demo appspace on an empty database -> HTTP server. */
async function main() {
  const started = performance.now();
  loadEnvFile();
  const config = loadConfig();
  configureLog(config.logLevel, { pretty: !config.production && process.stdout.isTTY });
  const db = await openDatabase(config);

  // An empty database: in development a demo appspace whose keys are printed; in production no key is ever printed
  // (stdout is the log pipeline there), only the command that makes one.
  let demo: Awaited<ReturnType<typeof createAppspace>> | null = null;
  const empty = (await countAppspaces(db)) === 0;
  if (empty && !config.production) demo = await createAppspace(db, { name: "demo", currency: "USD" });
  if (empty && config.production) log.warn({ scope: "server" }, 'no appspace yet: make one with "npm run appspace:create -- --name shop --currency USD" (it prints its keys)');

  const server = await createServer(db, {
    production: config.production, deletion: config.deletion, rateLimitWindowSeconds: config.rateLimitWindowSeconds, rollupRefreshMs: config.rollupRefreshMs,
    retentionPurgeMs: config.retentionPurgeMs, auditSecret: loadAuditSecret(config.auditSecret, config.auditSecretFile), trustProxy: config.trustProxy,
    corsOrigins: config.corsOrigins, introspection: config.introspection, metricsPort: config.metricsPort, rates: config.rates,
    redis: config.redis,
  });
  const running = await server.listen(config.port);
  const database = config.databaseUrl ? "mysql" : "sqlite";
  log.info({ scope: "server", database, metrics: running.metricsUrl, startupMs: Math.round(performance.now() - started) }, `GraphQL server ready at ${running.url}`);
  if (demo) printDemo(demo, running.url);
  handleSignals(config, running, () => db.destroy());
}

/** The demo appspace's keys, for the developer who just started the server: shown once, on stdout, not as a log line. */
function printDemo(demo: Awaited<ReturnType<typeof createAppspace>>, url: string): void {
  console.log(`\nCreated the "demo" appspace (id ${demo.appspaceId}, base currency USD). Its keys are shown only this once:`);
  console.log(`  publishable key: ${demo.publishableKey}`);
  console.log(`  secret key:      ${demo.secretKey}`);
  console.log(`\nOpen ${url} in a browser (Apollo Sandbox) and add the header`);
  console.log(`  Authorization: Bearer ${demo.secretKey}\n`);
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
}

/**
 * Why the start failed, for its log line: a port taken as Node says it (the port is the operator's); a database's
 * error as its code only (its message may name a user and an address: "Access denied for user 'u'@'10.…'"); a
 * configuration error as its message.
 */
function startFailure(err: unknown): string {
  if ((err as { syscall?: unknown })?.syscall === "listen") return (err as Error).message;
  if (driverError(err).code) return describeFailure(err);
  return err instanceof Error ? err.message : String(err);
}

main().catch(err => {
  log.fatal({ scope: "server", error: startFailure(err) }, "start failed");
  process.exit(1);
});
