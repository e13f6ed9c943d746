import fs from "node:fs";
import path from "node:path";

/**
 * The node arguments of `npm start` (package.json's start script, `node <args>`), with
 * `script` in place of src/index.ts: the tests and the benchmark start a process
 * exactly as it runs in production, V8 flags included.
 */
export function startArgs(script = "src/index.ts"): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { scripts: { start: string } };
  const [node, ...args] = pkg.scripts.start.trim().split(/\s+/);
  if (node !== "node" || args.at(-1) !== "src/index.ts") throw new Error(`npm start is not "node … src/index.ts": ${pkg.scripts.start}`);
  return [...args.slice(0, -1), script];
}
