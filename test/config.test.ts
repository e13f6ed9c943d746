import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config";
import { ensureDashboard } from "../src/ops/dashboard";
import { startArgs } from "../src/start-command";
import { dbTargets } from "./helpers/databases";
import { Harness, startHarness } from "./helpers/harness";
import { root } from "./helpers/process";

const [sqlite] = dbTargets();

describe("configuration (config.ts: every variable validated at start)", () => {
  it("has defaults that start a development server with nothing set", () => {
    const config = loadConfig({});
    expect({
      port: config.port, production: config.production, logLevel: config.logLevel, metricsPort: config.metricsPort, rates: config.rates,
      corsOrigins: config.corsOrigins, introspection: config.introspection, logSql: config.logSql,
    }).toEqual({
      port: 4000, production: false, logLevel: "info", metricsPort: null, rates: { url: null, refreshMs: 3_600_000 },
      corsOrigins: "*", introspection: true, logSql: false,
    });
  });

  it("closes CORS to Apollo Sandbox and introspection in production, unless told otherwise", () => {
    expect(loadConfig({ NODE_ENV: "production" })).toMatchObject({ production: true, corsOrigins: ["https://studio.apollographql.com"], introspection: false });
    expect(loadConfig({ NODE_ENV: "production", INTROSPECTION: "1", CORS_ORIGINS: "https://shop.example, https://admin.shop.example:8443" }))
      .toMatchObject({ introspection: true, corsOrigins: ["https://shop.example", "https://admin.shop.example:8443"] });
    expect(loadConfig({ NODE_ENV: "production", CORS_ORIGINS: "*" }).corsOrigins).toBe("*");
    expect(loadConfig({ INTROSPECTION: "0" }).introspection).toBe(false);
  });

  it("adds RATES_APP_ID to RATES_URL as its app_id, and reads the refresh in hours", () => {
    expect(loadConfig({ RATES_URL: "https://openexchangerates.org/api/latest.json", RATES_APP_ID: "abc", RATES_REFRESH_HOURS: "0.5" }).rates)
      .toEqual({ url: "https://openexchangerates.org/api/latest.json?app_id=abc", refreshMs: 1_800_000 });
    expect(loadConfig({ RATES_URL: "https://rates.example/latest.json?app_id=own", RATES_APP_ID: "abc" }).rates.url).toBe("https://rates.example/latest.json?app_id=own");
    expect(loadConfig({ METRICS_PORT: "9464", LOG_LEVEL: "DEBUG" })).toMatchObject({ metricsPort: 9464, logLevel: "debug" });
  });

  it("reads replicas' URLs in order, and their lag limit", () => {
    expect(loadConfig({ DATABASE_URL: "mysql://p/x", DATABASE_READ_URLS: " mysql://r1/x ,mysql://u:p@r2:3307/x", REPLICA_MAX_LAG_SECONDS: "5" }).replicas)
      .toEqual({ urls: ["mysql://r1/x", "mysql://u:p@r2:3307/x"], maxLagSeconds: 5 });
    expect(loadConfig({}).replicas).toEqual({ urls: [], maxLagSeconds: 30 });
  });

  it.each([
    [{ PORT: "70000" }, 'PORT must be a port number (0-65535), got "70000"'],
    [{ METRICS_PORT: "metrics" }, 'METRICS_PORT must be a port number (0-65535), got "metrics"'],
    [{ LOG_LEVEL: "loud" }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ LOG_SQL: "yes" }, 'LOG_SQL must be 1 or 0, got "yes"'],
    [{ INTROSPECTION: "true" }, 'INTROSPECTION must be 1 or 0, got "true"'],
    [{ RATES_URL: "ftp://rates.example/latest.json" }, "RATES_URL must start with http:// or https://"],
    [{ RATES_URL: "rates.example/latest.json?app_id=secret" }, 'RATES_URL must be an http(s) address of a latest.json, got "rates.example/latest.json?app_id=***"'],
    [{ RATES_APP_ID: "abc" }, "RATES_APP_ID is set but RATES_URL is not: set RATES_URL to the latest.json address"],
    [{ RATES_URL: "https://r.example/latest.json", RATES_REFRESH_HOURS: "0" }, 'RATES_REFRESH_HOURS must be a number of hours above 0 and at most 168 (0.5 is 30 minutes), got "0"'],
    [{ RATES_URL: "https://r.example/latest.json", RATES_REFRESH_HOURS: "700" }, 'RATES_REFRESH_HOURS must be a number of hours above 0 and at most 168 (0.5 is 30 minutes), got "700"'],
    [{ RETENTION_PURGE_MS: "3000000000" }, 'RETENTION_PURGE_MS must be a whole number from 1000 to 2147483647, got "3000000000"'],
    [{ NODE_ENV: "prod" }, 'NODE_ENV must be development, production or test, got "prod"'],
    [{ CORS_ORIGINS: "https://shop.example/app" }, 'CORS_ORIGINS must be * or origins like https://shop.example separated by commas (scheme, host and port only), got "https://shop.example/app"'],
    [{ DATABASE_URL: "postgres://db/x" }, "DATABASE_URL must start with mysql:// (leave it unset for SQLite)"],
    [{ DATABASE_READ_URLS: "mysql://r1/x" }, "DATABASE_READ_URLS needs DATABASE_URL: read replicas are replicas of a MySQL primary"],
    [{ DATABASE_URL: "mysql://p/x", DATABASE_READ_URLS: "mysql://r1/x, r2:3306/x" }, "DATABASE_READ_URLS must be mysql:// URLs separated by commas; the 2nd is not"],
    [{ DATABASE_URL: "mysql://p/x", REPLICA_MAX_LAG_SECONDS: "0" }, 'REPLICA_MAX_LAG_SECONDS must be a whole number from 2 to 86400, got "0"'],
  ])("refuses %j with a message naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(`Invalid configuration: ${message}`);
  });

  /** Starts the server with `env` until it exits: its exit code and its last log line. */
  const failedStart = (env: NodeJS.ProcessEnv) => {
    const run = spawnSync(process.execPath, startArgs(), { cwd: root, env: { ...process.env, PORT: "0", ...env }, encoding: "utf8", timeout: 30_000 });
    return { status: run.status, last: JSON.parse(run.stdout.trim().split("\n").at(-1)!), out: run.stdout + run.stderr };
  };

  it("stops the server at start with that message, exit code 1", () => {
    expect(failedStart({ LOG_LEVEL: "loud" })).toMatchObject({
      status: 1, last: { level: "fatal", msg: "start failed", error: 'Invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"' },
    });
  });

  it("stops the server at start when its database or a port cannot be had, saying so without an address", async () => {
    const unreachable = failedStart({ DATABASE_URL: "mysql://root@127.0.0.1:1/analytics" });
    expect(unreachable).toMatchObject({ status: 1, last: { level: "fatal", msg: "start failed", error: "code=ECONNREFUSED errno=-111" } });
    expect(unreachable.out).not.toContain("127.0.0.1");
    const taken = http.createServer();
    await new Promise<void>(r => taken.listen(0, r));
    try {
      const port = (taken.address() as AddressInfo).port;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-"));
      const busy = failedStart({ SQLITE_PATH: path.join(dir, "db.sqlite"), AUDIT_SECRET_FILE: path.join(dir, "audit.key"), METRICS_PORT: String(port) });
      fs.rmSync(dir, { recursive: true, force: true });
      expect(busy).toMatchObject({ status: 1, last: { level: "fatal", msg: "start failed", error: `listen EADDRINUSE: address already in use :::${port}` } });
    } finally {
      taken.close();
    }
  });
});

describe("browsers: CORS_ORIGINS, INTROSPECTION and EXPLORER as the server applies them", () => {
  let open: Harness;
  let closed: Harness;
  beforeAll(async () => {
    open = await startHarness(sqlite);
    closed = await startHarness(sqlite, [], undefined, { production: true, corsOrigins: ["https://studio.apollographql.com"], introspection: true });
  });
  afterAll(async () => {
    await open.close();
    await closed.close();
  });

  /** A browser's preflight from `origin`: the origin the server allows back, if any. */
  const preflight = async (h: Harness, origin: string) => {
    const res = await fetch(h.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" } });
    return res.headers.get("access-control-allow-origin");
  };

  it("allows any origin by default, and only the listed ones when CORS_ORIGINS lists them", async () => {
    expect(await preflight(open, "https://anywhere.example")).toBe("*");
    expect(await preflight(closed, "https://studio.apollographql.com")).toBe("https://studio.apollographql.com");
    expect(await preflight(closed, "https://evil.example")).toBeNull();
  });

  it("answers introspection in production when INTROSPECTION=1", async () => {
    expect((await closed.gql("{ __schema { queryType { name } } }")).body.data).toEqual({ __schema: { queryType: { name: "Query" } } });
  });

  it("serves the explorer outside production only, unless EXPLORER=1", async () => {
    const explorer = async (h: Harness) => {
      const res = await fetch(h.url.replace(/\/graphql$/, "/explorer"));
      return [res.status, (await res.text()).trim().split("\n")[0]];
    };
    expect(await explorer(closed)).toEqual([404, "The explorer is off in production: set EXPLORER=1 to serve it."]);
    await ensureDashboard();
    expect(await explorer(open)).toEqual([200, "<!doctype html>"]);
    expect(loadConfig({ NODE_ENV: "production" }).explorer).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", EXPLORER: "1" }).explorer).toBe(true);
    expect(loadConfig({}).explorer).toBe(true);
  });

  it("lets a browser read x-request-id and Retry-After", async () => {
    const res = await fetch(open.url, { method: "POST", headers: { origin: "https://a.example", "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(res.headers.get("access-control-expose-headers")).toBe("x-request-id,retry-after");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the Apollo Sandbox examples of docs/api.md", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(sqlite);
  });
  afterAll(() => h.close());

  /** The ```graphql blocks of the "Explore in Apollo Sandbox" section of docs/api.md. */
  const examples = () => {
    const api = fs.readFileSync(path.join(root, "docs", "api.md"), "utf8");
    const section = api.slice(api.indexOf("## Explore in Apollo Sandbox"), api.indexOf("## Errors and codes"));
    return [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map(m => m[1]);
  };

  it("run as written with the header it names: the purchase, then the reports that count it", async () => {
    const { secretKey, publishableKey } = await h.appspace({ currency: "EUR" });
    const [track, reports, channels] = examples();
    expect(examples()).toHaveLength(3);
    expect((await h.gql(track, {}, publishableKey)).body).toEqual({ data: { trackEvent: { ok: true } } });
    const answered = await h.gql(reports, {}, secretKey);
    expect(answered.body.errors).toBeUndefined();
    expect(answered.body.data!.overview).toEqual({ totalRevenue: 59.9, netRevenue: 59.9, totalOrders: 1, avgOrderValue: 59.9 });
    expect(answered.body.data!.revenueTimeseries.series).toHaveLength(30);
    const sources = await h.gql(channels, {}, secretKey);
    expect(sources.body.errors).toBeUndefined();
    expect(sources.body.data!.revenueByChannel.channels).toEqual([{ source: null, medium: null, campaign: null, revenue: 59.9, orders: 1 }]);
  });
});

describe("the documentation of the configuration", () => {
  const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
  /** The variables config.ts reads: env.NAME, env[...] through a helper given "NAME". */
  const readByConfig = () => new Set([...read("src/config.ts").matchAll(/env\.([A-Z][A-Z0-9_]+)|env, "([A-Z][A-Z0-9_]+)"/g)].map(m => m[1] ?? m[2]));

  it("lists every variable config.ts reads in the table of docs/operating.md and in .env.example, and no other", () => {
    const operating = read("docs/operating.md");
    const table = operating.slice(operating.indexOf("## Configuration"), operating.indexOf("## Running on MySQL"));
    const documented = new Set([...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map(m => m[1]));
    const example = new Set([...read(".env.example").matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map(m => m[1]));
    const names = [...readByConfig()].sort();
    expect(names.length).toBeGreaterThanOrEqual(22);
    expect([...documented].sort()).toEqual(names);
    expect([...example].sort()).toEqual(names);
  });
});
