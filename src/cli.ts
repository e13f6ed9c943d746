import { DataSource } from "typeorm";
import { loadConfig, loadEnvFile } from "./config";
import { configureLog } from "./log";
import { openDatabase } from "./open-database";

/** `--name shop --json` -> { name: "shop", json: true } */
export function parseFlags(argv: string[]): Record<string, string | true> {
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`Unexpected argument "${argv[i]}"`);
    if (m[2] !== undefined) flags[m[1]] = m[2];
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith("--")) flags[m[1]] = argv[++i];
    else flags[m[1]] = true;
  }
  return flags;
}

/** Runs a command's body against the database and exits with 1 and a one-line message on failure. */
export function runCommand(body: (db: DataSource) => Promise<void>): void {
  Promise.resolve()
    .then(() => {
      loadEnvFile();
      const config = loadConfig();
      // Log lines (migrations run at open) on stderr: a command's own output on stdout stays parseable (--json).
      configureLog(config.logLevel, { fd: 2 });
      return openDatabase(config);
    })
    .then(async db => {
      try {
        await body(db);
      } finally {
        await db.destroy();
      }
    })
    .catch(err => {
      console.error(`error: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    });
}
