import "reflect-metadata";
import { createAppspace, countAppspaces } from "./appspaces/appspace.service";
import { loadConfig } from "./config";
import { openDatabase } from "./db/open";
import { createServer } from "./server";

/** Start-up: config -> database (migrations) -> demo appspace on an empty database -> HTTP server. */
async function main() {
  const config = loadConfig();
  const db = await openDatabase(config);

  let demo: Awaited<ReturnType<typeof createAppspace>> | null = null;
  if ((await countAppspaces(db)) === 0) demo = await createAppspace(db, { name: "demo", currency: "USD" });

  const server = await createServer(db, {
    production: config.nodeEnv === "production", deletion: config.deletion, rateLimitWindowSeconds: config.rateLimitWindowSeconds, rollupRefreshMs: config.rollupRefreshMs,
    retentionPurgeMs: config.retentionPurgeMs,
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

  const shutdown = async () => {
    await running.stop();
    await db.destroy();
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch(err => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
