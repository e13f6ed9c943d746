import { DataSource } from "typeorm";
import { countAppspaces, createAppspace, CreatedAppspace } from "./appspaces/appspace.service";
import { Config } from "./config";
import { log } from "./log";

/**
 * An empty database: in development a demo appspace, whose keys are printed once (printDemo); in production no key is
 * ever printed (stdout is the log pipeline there), only the command that makes one.
 */
export async function demoAppspace(db: DataSource, config: Config): Promise<CreatedAppspace | null> {
  if ((await countAppspaces(db)) > 0) return null;
  if (!config.production) return createAppspace(db, { name: "demo", currency: "USD" });
  log.warn({ scope: "server" }, 'no appspace yet: make one with "npm run appspace:create -- --name shop --currency USD" (it prints its keys)');
  return null;
}

/** The demo appspace's keys, for the developer who just started the server: shown once, on stdout, not as a log line. */
export function printDemo(demo: CreatedAppspace, url: string): void {
  console.log(`\nCreated the "demo" appspace (id ${demo.appspaceId}, base currency USD). Its keys are shown only this once:`);
  console.log(`  publishable key: ${demo.publishableKey}`);
  console.log(`  secret key:      ${demo.secretKey}`);
  console.log(`\nOpen ${url} in a browser (Apollo Sandbox) and add the header`);
  console.log(`  Authorization: Bearer ${demo.secretKey}\n`);
}
