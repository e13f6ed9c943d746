import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { oldestKept } from "../src/days";
import { TRACK_EVENT } from "./helpers/documents";
import { gqlAt, logLines, root, startServerProcess, tsx } from "./helpers/process";

const run = promisify(execFile);

/** The commands of the README, run as a person would, on a fresh SQLite file each. */
describe("commands", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "analytics-"));
    env = { ...process.env, SQLITE_PATH: path.join(dir, "db.sqlite"), DATABASE_URL: "" };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("npm start creates the demo appspace on an empty database, prints its keys once, and serves them", async () => {
    const first = await startServerProcess(env);
    const pk = /publishable key: (pk_\S+)/.exec(first.out())![1];
    expect(first.out()).toMatch(/secret key: {6}sk_\S{43}/);
    expect(first.out()).toContain("Apollo Sandbox");
    const res = await gqlAt(first.url, pk, TRACK_EVENT, { event: { eventType: "PURCHASE", transactionId: "o-1", revenue: 9.99, currency: "CHF" } });
    // The bundled rate snapshot covers currencies beyond the test rates.
    expect(res).toEqual({ data: { trackEvent: { ok: true } } });
    await first.stop();

    const second = await startServerProcess(env);
    expect(second.out()).not.toContain("publishable key");
    await second.stop();
  });

  it("NODE_ENV=production npm start on an empty database makes no appspace and prints no key, only the command that makes one", async () => {
    const server = await startServerProcess({ ...env, NODE_ENV: "production" });
    await server.stop();
    expect(server.out()).not.toMatch(/sk_|pk_/);
    expect(logLines(server.out()).find(l => l.level === "warn")).toMatchObject({ msg: expect.stringContaining('"npm run appspace:create -- --name shop --currency USD"') });
    const sqlite = new Database(env.SQLITE_PATH!, { readonly: true });
    expect(sqlite.prepare("SELECT COUNT(*) AS n FROM appspaces").get()).toEqual({ n: 0 });
    sqlite.close();
  });

  it("commands read .env in the working directory as the server does (the environment wins)", async () => {
    const file = path.join(dir, "from-dotenv.sqlite");
    fs.writeFileSync(path.join(dir, ".env"), `SQLITE_PATH=${file}\nLOG_LEVEL=silent\n`);
    const { SQLITE_PATH: _unset, ...rest } = env;
    const cli = ["--tsconfig", path.join(root, "tsconfig.json"), path.join(root, "src/appspaces/cli.ts")];
    const { stdout } = await run(tsx, [...cli, "create", "--name", "dotenv", "--json"], { cwd: dir, env: rest });
    expect(JSON.parse(stdout).appspaceId).toBe(1);
    const sqlite = new Database(file, { readonly: true });
    expect(sqlite.prepare("SELECT name FROM appspaces").all()).toEqual([{ name: "dotenv" }]);
    sqlite.close();
    const fromEnv = path.join(dir, "from-env.sqlite");
    await run(tsx, [...cli, "create", "--name", "env", "--json"], { cwd: dir, env: { ...rest, SQLITE_PATH: fromEnv } });
    const other = new Database(fromEnv, { readonly: true });
    expect(other.prepare("SELECT name FROM appspaces").all()).toEqual([{ name: "env" }]);
    other.close();
  });

  it("appspace:create --json prints the new keys; bad flags fail with a message", async () => {
    const { stdout } = await run(tsx, ["src/appspaces/cli.ts", "create", "--name", "shop", "--currency", "EUR", "--json"], { cwd: root, env });
    const created = JSON.parse(stdout);
    expect(created).toEqual({ appspaceId: 1, publishableKey: expect.stringMatching(/^pk_/), secretKey: expect.stringMatching(/^sk_/) });
    await expect(run(tsx, ["src/appspaces/cli.ts", "create", "--name", "x", "--currency", "XXX"], { cwd: root, env }))
      .rejects.toMatchObject({ code: 1, stderr: "error: currency XXX has no exchange rate on this server\n" });
    await expect(run(tsx, ["src/appspaces/cli.ts", "create"], { cwd: root, env }))
      .rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("error: --name is required") });
  });

  it("generate writes sessions into the database, or replays them through the API", async () => {
    await run(tsx, ["src/appspaces/cli.ts", "create", "--name", "shop", "--currency", "EUR", "--json"], { cwd: root, env });
    const direct = await run(tsx, ["src/bench/generate-cli.ts", "--appspace", "1", "--events", "400", "--days", "10"], { cwd: root, env });
    expect(JSON.parse(direct.stdout)).toEqual({ events: expect.any(Number), items: expect.any(Number), people: expect.any(Number), rollupDays: expect.any(Number) });
    const written = JSON.parse(direct.stdout);
    expect(written.events).toBeGreaterThanOrEqual(400);
    expect(written.rollupDays).toBeGreaterThan(0);

    const server = await startServerProcess(env);
    const { stdout } = await run(tsx, ["src/appspaces/cli.ts", "create", "--name", "api", "--currency", "EUR", "--json"], { cwd: root, env });
    const api = JSON.parse(stdout);
    const replayed = await run(tsx, ["src/bench/generate-cli.ts", "--url", server.url, "--key", api.publishableKey, "--events", "400", "--days", "10"], { cwd: root, env });
    // The same seed makes the same sessions, whichever way they go in.
    expect(JSON.parse(replayed.stdout)).toEqual({ events: written.events, items: written.items, people: written.people });
    const res = await gqlAt(server.url, api.secretKey, "{ funnel { steps { count } } }");
    expect(res.data!.funnel.steps[0].count).toBeGreaterThan(0);
    await server.stop();

    await expect(run(tsx, ["src/bench/generate-cli.ts", "--events", "10"], { cwd: root, env }))
      .rejects.toMatchObject({ code: 1, stderr: "error: --appspace (an appspace id) is required, or --url and --key\n" });
  });

  it("appspace retention shortens what an appspace keeps; purge deletes the rest at once", async () => {
    const cli = (...args: string[]) => run(tsx, ["src/appspaces/cli.ts", ...args], { cwd: root, env });
    await cli("create", "--name", "shop", "--currency", "EUR");
    await run(tsx, ["src/bench/generate-cli.ts", "--appspace", "1", "--events", "400", "--days", "10"], { cwd: root, env });
    const set = (await cli("retention", "--appspace", "1", "--days", "3")).stdout;
    const oldest = /^Appspace 1 keeps 3 days, from (\S+); older data goes at the next purge\.\n$/.exec(set)![1];
    expect([oldestKept(3, new Date()), oldestKept(3, new Date(Date.now() - 60_000))]).toContain(oldest);
    const sqlite = new Database(env.SQLITE_PATH!, { readonly: true });
    const count = (where: string) => (sqlite.prepare(`SELECT COUNT(*) AS n FROM events WHERE ${where}`).get(`${oldest} 00:00:00`) as { n: number }).n;
    const [older, kept] = [count("occurred_at < ?"), count("occurred_at >= ?")];
    expect(older).toBeGreaterThan(0);

    expect((await cli("purge")).stdout).toMatch(new RegExp(`^appspace 1: ${older} events deleted\nPurged ${older} events in \\d+\\.\\d s\\.\n$`));
    expect([count("occurred_at < ?"), count("occurred_at >= ?")]).toEqual([0, kept]);
    expect((await cli("purge")).stdout).toMatch(/^Purged 0 events in \d+\.\d s\.\n$/);
    sqlite.close();

    await expect(cli("retention", "--appspace", "1", "--days", "0")).rejects.toMatchObject({ code: 1, stderr: "error: retention must be 1 to 3650 days\n" });
    await expect(cli("retention", "--appspace", "9", "--days", "30")).rejects.toMatchObject({ code: 1, stderr: "error: no appspace 9\n" });
  });

  it("rates:load stores a file of Open Exchange Rates as the rates in force from its date", async () => {
    const file = path.join(dir, "latest.json");
    fs.writeFileSync(file, JSON.stringify({ timestamp: 1780000000, base: "EUR", rates: { EUR: 1, USD: 1.25, JPY: 187.5, NOPE: 3 } }));
    const { stdout } = await run(tsx, ["src/ingest/rates/cli.ts", file, "--json"], { cwd: root, env });
    expect(JSON.parse(stdout)).toEqual({ date: "2026-05-28", count: 3 });
  });
});
