import "reflect-metadata";
import { parseFlags, runCommand } from "../cli";
import { refreshRollups } from "../read-models";
import { generate, replay } from "./generate";

/*
 * npm run generate -- --appspace 1 --events 100000 [--seed 42] [--days 400]
 *   writes the sessions straight into the database of DATABASE_URL (or the SQLite file);
 * npm run generate -- --url http://localhost:4000/graphql --key pk_... --events 10000
 *   sends the same sessions through the GraphQL API.
 */
function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

const flags = parseFlags(process.argv.slice(2));
const opts = { events: Number(flags.events ?? 10_000), seed: Number(flags.seed ?? 42), days: Number(flags.days ?? 400) };
for (const [name, value] of Object.entries(opts)) {
  if (!Number.isInteger(value) || value < (name === "seed" ? 0 : 1)) fail(`--${name} must be a whole number of at least ${name === "seed" ? 0 : 1}`);
}

if (flags.url) {
  if (typeof flags.key !== "string") fail("--key (a publishable key) is required with --url");
  replay(String(flags.url), flags.key, opts)
    .then(done => console.log(JSON.stringify(done)))
    .catch(err => fail(err instanceof Error ? err.message : String(err)));
} else {
  const appspaceId = Number(flags.appspace);
  if (!Number.isInteger(appspaceId)) fail("--appspace (an appspace id) is required, or --url and --key");
  runCommand(async db => {
    const done = await generate(db, appspaceId, opts);
    const days = await refreshRollups(db, { waitSeconds: 60 });
    console.log(JSON.stringify({ ...done, rollupDays: days }));
  });
}
