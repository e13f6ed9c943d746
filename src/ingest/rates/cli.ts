import fs from "node:fs";
import { parseFlags, runCommand } from "../../cli";
import { loadRates } from "./rates.service";

// `npm run rates:load -- rates.json`: rates in the Open Exchange Rates format, in force from the file's date.
const [file, ...rest] = process.argv.slice(2);
if (!file || file.startsWith("--")) {
  console.error("usage: npm run rates:load -- <rates.json> [--json]");
  process.exit(2);
}

runCommand(async db => {
  const flags = parseFlags(rest);
  const loaded = await loadRates(db, JSON.parse(fs.readFileSync(file, "utf8")));
  console.log(flags.json ? JSON.stringify(loaded) : `Loaded ${loaded.count} rates in force from ${loaded.date}.`);
});
