import fs from "node:fs";
import http from "node:http";
import { AddressInfo } from "node:net";
import path from "node:path";
import { DataSource } from "typeorm";
import { RatesFetcher } from "../src/ingest/rates/rates-fetcher";
import { OxrFile, RatesCache } from "../src/ingest/rates/rates.service";
import { captureLogs } from "../src/log";
import { ratesDate, ratesFetches } from "../src/metrics";
import { convertMinor } from "../src/money";
import { dbTargets, migratedDatabase } from "./helpers/databases";
import { until } from "./helpers/wait";

/*
 * RATES_URL: a RatesFetcher against a real HTTP server on 127.0.0.1 serving a latest.json the tests change and break,
 * over a real migrated database of each target.
 */

/** 2026-01-01: 1 USD = 0.8 EUR = 150 JPY = 0.3 KWD = 0.75 GBP. */
const JAN_1: OxrFile = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "rates-2026-01-01.json"), "utf8"));
/** A day later, other rates: 1 USD = 0.9 EUR = 160 JPY. */
const JAN_2: OxrFile = { timestamp: JAN_1.timestamp + 86_400, base: "USD", rates: { ...JAN_1.rates, EUR: 0.9, JPY: 160 } };
const JAN_1_ROWS = [
  { currency: "EUR", rate_date: "2026-01-01", per_usd: "0.8" },
  { currency: "GBP", rate_date: "2026-01-01", per_usd: "0.75" },
  { currency: "JPY", rate_date: "2026-01-01", per_usd: "150" },
  { currency: "KWD", rate_date: "2026-01-01", per_usd: "0.3" },
  { currency: "USD", rate_date: "2026-01-01", per_usd: "1" },
];
const SECRET = "xyz-secret-4711";

/** What the fixture server answers: a status and body, or nothing at all (hang) until it is closed. */
interface Reply {
  status: number;
  body: string;
  hang?: boolean;
  delayMs?: number;
}

interface FixtureServer {
  /** http://127.0.0.1:<port>/latest.json */
  url: string;
  reply: Reply;
  /** The path and query of each request received. */
  requests: string[];
  /** The most requests it had in hand at once. */
  maxConcurrent: number;
  close(): Promise<void>;
}

const json = (file: unknown): Reply => ({ status: 200, body: JSON.stringify(file) });

async function startFixtureServer(reply: Reply): Promise<FixtureServer> {
  let open = 0;
  const fixture = { reply, requests: [] as string[], maxConcurrent: 0 } as FixtureServer;
  const server = http.createServer((req, res) => {
    fixture.requests.push(req.url ?? "");
    fixture.maxConcurrent = Math.max(fixture.maxConcurrent, ++open);
    res.on("close", () => open--);
    const { status, body, hang, delayMs = 0 } = fixture.reply;
    if (hang) return;
    // No keep-alive: a request after close() is refused, not sent on a pooled socket the server is closing.
    setTimeout(() => res.writeHead(status, { "content-type": "application/json", connection: "close" }).end(body), delayMs);
  });
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
  fixture.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/latest.json`;
  let closed: Promise<void> | null = null;
  fixture.close = () => {
    closed ??= new Promise<void>(resolve => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  return fixture;
}

async function fetchCount(outcome: "ok" | "failed"): Promise<number> {
  return (await ratesFetches.get()).values.find(v => v.labels.outcome === outcome)?.value ?? 0;
}

async function gaugeDate(): Promise<number | undefined> {
  return (await ratesDate.get()).values[0]?.value;
}

/** Runs `fn` with the log captured; returns its result and the lines of scope "rates" (the log is restored if it throws). */
async function withLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const logs = captureLogs("info");
  const settled = await fn().then(
    result => ({ result }),
    error => ({ error }),
  );
  const lines = logs().filter(l => l.scope === "rates");
  if ("error" in settled) throw settled.error;
  return { result: settled.result, lines };
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe.each(dbTargets())("exchange rates from RATES_URL ($name)", target => {
  let db: DataSource;
  let drop: () => Promise<void>;
  let cache: RatesCache;
  const servers: FixtureServer[] = [];
  const fetchers: RatesFetcher[] = [];
  /** Lines logged outside a test's own capture (a refresh after its checks) are kept off the test output. */
  let quiet: () => unknown;

  const rows = (): Promise<{ currency: string; rate_date: string; per_usd: string }[]> =>
    db.query("SELECT currency, rate_date, per_usd FROM exchange_rates ORDER BY rate_date, currency");

  /** The cache as a conversion sees it, reloaded from the table. */
  const rateFromTable = async (from: string, to: string, at: string) => {
    cache.invalidate();
    await cache.refresh();
    return cache.rate(from, to, new Date(at));
  };

  const serve = async (reply: Reply) => {
    const server = await startFixtureServer(reply);
    servers.push(server);
    return server;
  };

  const fetcher = (url: string, opts: { refreshMs?: number; timeoutMs?: number } = {}) => {
    const f = new RatesFetcher(db, cache, { url, refreshMs: opts.refreshMs ?? 3_600_000, timeoutMs: opts.timeoutMs });
    fetchers.push(f);
    return f;
  };

  beforeAll(async () => {
    ({ db, drop } = await migratedDatabase(target));
  });

  beforeEach(async () => {
    await db.query("DELETE FROM exchange_rates");
    cache = new RatesCache(db);
    quiet = captureLogs("info");
  });

  afterEach(async () => {
    for (const f of fetchers.splice(0)) await f.stop();
    for (const s of servers.splice(0)) await s.close();
    quiet();
  });

  afterAll(async () => {
    await db?.destroy();
    await drop?.();
  });

  it("stores a fetched file's rates under its date, and conversions use them once the cache refreshes", async () => {
    const server = await serve(json(JAN_1));
    const [ok, failed] = [await fetchCount("ok"), await fetchCount("failed")];
    // Checked (empty) before the fetch: only the fetch's invalidate() makes its next refresh read the table again.
    await cache.refresh();
    expect(cache.has("EUR")).toBe(false);
    const { result: outcome, lines } = await withLogs(() => fetcher(server.url).fetchOnce());

    expect(outcome).toEqual({ ok: true, date: "2026-01-01", count: 5 });
    expect(await rows()).toEqual(JAN_1_ROWS);
    // fetchOnce invalidated the cache: its next refresh reads the new rates.
    await cache.refresh();
    expect(cache.rate("USD", "EUR", new Date("2026-01-01T12:00:00Z"))).toEqual({ rate: "0.8", rateDate: "2026-01-01" });
    expect(cache.rate("EUR", "JPY", new Date("2026-01-01T12:00:00Z"))).toEqual({ rate: "187.5", rateDate: "2026-01-01" });
    expect(await fetchCount("ok")).toBe(ok + 1);
    expect(await fetchCount("failed")).toBe(failed);
    expect(await gaugeDate()).toBe(Date.parse("2026-01-01T00:00:00Z") / 1000);
    expect(lines).toEqual([expect.objectContaining({ level: "info", scope: "rates", date: "2026-01-01", currencies: 5, msg: "exchange rates fetched" })]);
  });

  it("sends the app_id of the url to the server, and logs neither the url nor the app_id", async () => {
    const server = await serve(json(JAN_1));
    const url = `${server.url}?app_id=${SECRET}`;
    const { result, lines } = await withLogs(() => fetcher(url).fetchOnce());
    expect(result).toEqual({ ok: true, date: "2026-01-01", count: 5 });
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    expect(JSON.stringify(lines)).not.toContain(server.url);
    expect(server.requests).toEqual([`/latest.json?app_id=${SECRET}`]);
  });

  it("keeps the last rates when a fetch fails, counts it and logs one warn line without the url", async () => {
    const server = await serve(json(JAN_1));
    const url = `${server.url}?app_id=${SECRET}`;
    const rates = fetcher(url, { timeoutMs: 300 });
    expect(await rates.fetchOnce()).toEqual({ ok: true, date: "2026-01-01", count: 5 });
    const date = await gaugeDate();

    // The timeout needs a server that answers nothing: one of its own, as the first is closed by then.
    const silent = await serve({ status: 200, body: "", hang: true });
    const silentUrl = `${silent.url}?app_id=${SECRET}`;
    const away = "exchange_rates_away";
    const cases: { name: string; arrange(): Promise<unknown>; undo?(): Promise<unknown>; reason: string | RegExp; fetcher?: RatesFetcher }[] = [
      { name: "HTTP 500", arrange: async () => (server.reply = { status: 500, body: "{\"error\":true}" }), reason: "HTTP 500" },
      { name: "not JSON", arrange: async () => (server.reply = { status: 200, body: "<html>rate limited</html>" }), reason: "invalid JSON" },
      {
        name: "a body with no rates",
        arrange: async () => (server.reply = json({ timestamp: JAN_2.timestamp, base: "USD" })),
        reason: /^Expected an Open Exchange Rates JSON file/,
      },
      { name: "rates: null", arrange: async () => (server.reply = json({ ...JAN_2, rates: null })), reason: /^invalid rates file/ },
      {
        name: "a database error",
        arrange: async () => {
          server.reply = json(JAN_2);
          await db.query(`ALTER TABLE exchange_rates RENAME TO ${away}`);
        },
        undo: () => db.query(`ALTER TABLE ${away} RENAME TO exchange_rates`),
        reason: /^code=(SQLITE_ERROR|ER_NO_SUCH_TABLE) .*statement="INSERT INTO exchange_rates/,
      },
      { name: "connection refused", arrange: () => server.close(), reason: /^ECONNREFUSED from 127\.0\.0\.1:\d+$/ },
      { name: "a timeout", arrange: async () => undefined, reason: "timeout", fetcher: fetcher(silentUrl, { timeoutMs: 300 }) },
    ];

    for (const c of cases) {
      await c.arrange();
      const [ok, failed] = [await fetchCount("ok"), await fetchCount("failed")];
      const started = Date.now();
      const { result: outcome, lines } = await withLogs(() => (c.fetcher ?? rates).fetchOnce()).finally(() => c.undo?.());

      expect({ case: c.name, outcome }).toEqual({ case: c.name, outcome: { ok: false, reason: expect.stringMatching(c.reason) } });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(lines).toEqual([
        { level: "warn", time: expect.any(String), pid: process.pid, scope: "rates", reason: (outcome as { reason: string }).reason, msg: "exchange rates not fetched; the last rates stay in force" },
      ]);
      for (const leak of [SECRET, "app_id", server.url, silent.url]) expect(JSON.stringify(lines)).not.toContain(leak);
      expect(await fetchCount("failed")).toBe(failed + 1);
      expect(await fetchCount("ok")).toBe(ok);
      expect(await gaugeDate()).toBe(date);
      expect(await rows()).toEqual(JAN_1_ROWS);
      expect(await rateFromTable("USD", "EUR", "2026-01-02T12:00:00Z")).toEqual({ rate: "0.8", rateDate: "2026-01-01" });
    }
    // The timed-out request did reach its server, app_id and all.
    expect(silent.requests).toEqual([`/latest.json?app_id=${SECRET}`]);
  });

  it("picks up rates with a later date at the next refresh, keeping the older date's rates for its events", async () => {
    // A refresh a second: the checks of the first fetch below are done long before the next one is due.
    const server = await serve(json(JAN_1));
    const rates = fetcher(server.url, { refreshMs: 1000 });
    const { lines } = await withLogs(async () => {
      await rates.start();
      expect(server.requests).toHaveLength(1);
      expect(await rows()).toEqual(JAN_1_ROWS);
      await cache.refresh();
      expect(cache.rate("USD", "EUR", new Date("2026-01-02T00:00:00Z"))).toEqual({ rate: "0.8", rateDate: "2026-01-01" });

      server.reply = json(JAN_2);
      await until("the 2026-01-02 rates", async () => (await rows()).length === 10);
      // The rows are committed before the fetch logs them: stop() waits for the fetch in flight, line and all.
      await rates.stop();
    });

    expect(await rows()).toEqual([
      ...JAN_1_ROWS,
      { currency: "EUR", rate_date: "2026-01-02", per_usd: "0.9" },
      { currency: "GBP", rate_date: "2026-01-02", per_usd: "0.75" },
      { currency: "JPY", rate_date: "2026-01-02", per_usd: "160" },
      { currency: "KWD", rate_date: "2026-01-02", per_usd: "0.3" },
      { currency: "USD", rate_date: "2026-01-02", per_usd: "1" },
    ]);
    expect(lines.slice(0, 2).map(l => [l.msg, l.date])).toEqual([
      ["exchange rates fetched", "2026-01-01"],
      ["exchange rates fetched", "2026-01-02"],
    ]);
    expect(await gaugeDate()).toBe(Date.parse("2026-01-02T00:00:00Z") / 1000);

    // The fetch invalidated the cache; 100.00 USD of an event on each day, in EUR cents.
    await cache.refresh();
    const onJan1 = cache.rate("USD", "EUR", new Date("2026-01-01T23:59:59Z"));
    const onJan2 = cache.rate("USD", "EUR", new Date("2026-01-02T00:00:00Z"));
    expect(onJan1).toEqual({ rate: "0.8", rateDate: "2026-01-01" });
    expect(onJan2).toEqual({ rate: "0.9", rateDate: "2026-01-02" });
    expect(convertMinor(10_000, "USD", "EUR", onJan1.rate)).toBe(8_000);
    expect(convertMinor(10_000, "USD", "EUR", onJan2.rate)).toBe(9_000);
    expect(cache.rate("JPY", "EUR", new Date("2026-01-01T08:00:00Z"))).toEqual({ rate: "0.00533333333333", rateDate: "2026-01-01" });
    expect(cache.rate("JPY", "EUR", new Date("2026-01-05T08:00:00Z"))).toEqual({ rate: "0.005625", rateDate: "2026-01-02" });
  });

  it("never fetches twice at a time, and stop() ends the refreshes and the fetch in flight", async () => {
    // Each answer takes 300 ms, a refresh is due every 50 ms: the refreshes due meanwhile are skipped.
    const server = await serve({ ...json(JAN_1), delayMs: 300 });
    const rates = fetcher(server.url, { refreshMs: 50 });
    const { lines: fetched } = await withLogs(async () => {
      const first = rates.start();
      // A fetch asked for while one runs shares it.
      expect(rates.fetchOnce()).toBe(rates.fetchOnce());
      await first;
      await until("three requests", () => server.requests.length >= 3);
    });
    expect(server.maxConcurrent).toBe(1);
    expect(fetched.length).toBeGreaterThanOrEqual(2);
    expect(fetched.every(l => l.msg === "exchange rates fetched")).toBe(true);

    // A server that answers nothing: stop() does not wait for the 10 s timeout.
    server.reply = { status: 200, body: "", hang: true };
    const seen = server.requests.length;
    await until("a request in flight", () => server.requests.length > seen);
    const stopping = Date.now();
    const failedBefore = await fetchCount("failed");
    const { lines } = await withLogs(() => rates.stop());
    expect(Date.now() - stopping).toBeLessThan(1000);
    // Given up at shutdown: not a failure of the rates server, neither warned of nor counted.
    expect(lines).toEqual([]);
    expect(await fetchCount("failed")).toBe(failedBefore);

    const after = server.requests.length;
    await sleep(250);
    expect(server.requests.length).toBe(after);
    expect(server.maxConcurrent).toBe(1);
    expect(await rows()).toEqual(JAN_1_ROWS);
  });
});
