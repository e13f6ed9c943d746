import { DataSource } from "typeorm";
import { countAppspaces, createAppspace, CreatedAppspace } from "./appspaces/appspace.service";
import { Config } from "./config";
import { log } from "./log";
import { generate } from "./bench/generate";

/**
 * An empty database: in development a demo appspace, whose keys are printed once (printDemo); in production no key is
 * ever printed (stdout is the log pipeline there), only the command that makes one.
 */
export async function demoAppspace(db: DataSource, config: Config): Promise<CreatedAppspace | null> {
  if ((await countAppspaces(db)) > 0) return null;
  if (!config.production) {
    const demo = await createAppspace(db, { name: "demo", currency: "USD" });
    if (config.demoData) await seedDemo(db, demo.appspaceId);
    return demo;
  }
  log.warn({ scope: "server" }, 'no appspace yet: make one with "npm run appspace:create -- --name shop --currency USD" (it prints its keys)');
  return null;
}

/** DEMO_DATA: a week of generated shopping (views, carts, checkouts, purchases, refunds) for the dashboard to show. */
async function seedDemo(db: DataSource, appspaceId: number): Promise<void> {
  const started = performance.now();
  const { events } = await generate(db, appspaceId, { events: DEMO_EVENTS, days: 7, seed: 1 });
  log.info({ scope: "server", events, durationMs: Math.round(performance.now() - started) }, "demo appspace seeded with a week of generated events (DEMO_DATA)");
}

const DEMO_EVENTS = 3000;

/** The demo appspace's keys, for the developer who just started the server: shown once, on stdout, not as a log line. */
export function printDemo(demo: CreatedAppspace, url: string): void {
  console.log(`\nCreated the "demo" appspace (id ${demo.appspaceId}, base currency USD). Its keys are shown only this once:`);
  console.log(`  publishable key: ${demo.publishableKey}`);
  console.log(`  secret key:      ${demo.secretKey}`);
  console.log(`\nOpen ${url.replace(/\/graphql$/, "/dashboard")} and paste the secret key to see its reports,`);
  console.log(`or open ${url} (Apollo Sandbox) and add the header`);
  console.log(`  Authorization: Bearer ${demo.secretKey}\n`);
}
