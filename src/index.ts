import "reflect-metadata";
import { createAppspace, countAppspaces } from "./appspaces/appspace.service";
import { loadConfig } from "./config";
import { openDatabase } from "./open-database";
import { loadAuditSecret } from "./identity/audit-secret";
import { logFailure } from "./log";
import { createServer } from "./server";

/** Start-up: config -> database (migrations) -> demo appspace on an empty database -> HTTP server. */
async function main() {
  const config = loadConfig();
  const db = await openDatabase(config);

  let demo: Awaited<ReturnType<typeof createAppspace>> | null = null;
  if ((await countAppspaces(db)) === 0) demo = await createAppspace(db, { name: "demo", currency: "USD" });

  const server = await createServer(db, {
    production: config.nodeEnv === "production", deletion: config.deletion, rateLimitWindowSeconds: config.rateLimitWindowSeconds, rollupRefreshMs: config.rollupRefreshMs,
    retentionPurgeMs: config.retentionPurgeMs, auditSecret: loadAuditSecret(config.auditSecret, config.auditSecretFile), trustProxy: config.trustProxy,
  });
  const running = await server.listen(config.port);
  const where = config.databaseUrl ? config.databaseUrl.replace(/\/\/[^@]*@/, "//***@") : config.sqlitePath;
  console.log(`GraphQL server ready at ${running.url} (database: ${where})`);
  if (demo) {
    console.log(`\nCreated the "demo" appspace (id ${demo.appspaceId}, base currency USD). Its keys are shown only this once:`);
    console.log(`  publishable key: ${demo.publishableKey}`);
    console.log(`  secret key:      ${demo.secretKey}`);
    console.log(`\nOpen ${running.url} in a browser (Apollo Sandbox) and add the header`);
    console.log(`  Authorization: Bearer ${demo.secretKey}\n`);
  }

  // A shutdown finishes what is in flight (RunningServer.stop); past SHUTDOWN_TIMEOUT_MS, or at a second signal, it
  // gives up: logs what it abandoned and exits 1.
  let stopping = false;
  const abandon = (why: string) => {
    const left = running.pending();
    console.error(`[shutdown] ${why}: abandoned ${left.requests} requests in flight; workers not stopped: ${left.workers.join(", ") || "none"}`);
    process.exit(1);
  };
  const shutdown = async (signal: string) => {
    if (stopping) return abandon(`${signal} again`);
    stopping = true;
    console.log(`[shutdown] ${signal}: finishing the requests in flight (at most ${config.shutdownTimeoutMs} ms)`);
    const deadline = setTimeout(() => abandon(`not done after ${config.shutdownTimeoutMs} ms`), config.shutdownTimeoutMs);
    try {
      await running.stop();
      await db.destroy();
    } catch (err) {
      logFailure("shutdown", "failed", err);
      process.exit(1);
    }
    clearTimeout(deadline);
    console.log("[shutdown] done");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch(err => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
