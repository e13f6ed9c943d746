import fs from "node:fs";
import path from "node:path";

/**
 * The node arguments of `npm start` (package.json's start script, `node <args> src/index.ts`) or of `npm run
 * start:prod` (`node <args> dist/index.js`), with `script` in place of the entry file: the tests and the benchmark
 * start a process exactly as it runs, V8 flags included.
 */
export function startArgs(script?: string, which: "start" | "start:prod" = "start"): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { scripts: Record<string, string> };
  const entry = which === "start" ? "src/index.ts" : "dist/index.js";
  const [node, ...args] = pkg.scripts[which].trim().split(/\s+/);
  if (node !== "node" || args.at(-1) !== entry) throw new Error(`npm run ${which} is not "node … ${entry}": ${pkg.scripts[which]}`);
  return [...args.slice(0, -1), script ?? entry];
}
