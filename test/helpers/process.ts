import { ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { startArgs } from "../../src/start-command";

export const root = path.join(__dirname, "..", "..");
export const tsx = path.join(root, "node_modules", ".bin", "tsx");

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything it printed so far. */
  out(): string;
  /** SIGTERM, and wait until it exits. */
  stop(): Promise<void>;
}

/**
 * `npm start` (or `npm run start:prod`, after a build) as a person runs it (the node arguments of its script), on a
 * random port; resolves once it serves.
 */
export async function startServerProcess(env: NodeJS.ProcessEnv, which: "start" | "start:prod" = "start"): Promise<ServerProcess> {
  const child = spawn(process.execPath, startArgs(undefined, which), { cwd: root, env: { ...process.env, ...env, PORT: "0" } });
  let out = "";
  child.stdout.on("data", d => (out += d));
  child.stderr.on("data", d => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => /ready at/.test(out) && (clearInterval(timer), resolve()), 50);
    child.once("exit", code => {
      clearInterval(timer);
      reject(new Error(`server exited with ${code}: ${out}`));
    });
  });
  await new Promise(r => setTimeout(r, 100)); // the rest of the banner
  return {
    child,
    url: /ready at (http:\/\/localhost:\d+\/graphql)/.exec(out)![1],
    out: () => out,
    stop: () => new Promise<void>(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    }),
  };
}

/** The JSON lines of a server's log (pino), in order; its other output (the demo appspace's keys) left out. */
export function logLines(out: string): Record<string, any>[] {
  return out.split("\n").filter(l => l.startsWith("{")).map(l => JSON.parse(l));
}

/** The messages of a server's log lines. */
export const logMessages = (out: string): string[] => logLines(out).map(l => String(l.msg));

/** A GraphQL request over HTTP with a key. */
export async function gqlAt(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}
