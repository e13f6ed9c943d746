import { DataSource } from "typeorm";
import { driverError } from "../../db/failures";
import { describeFailure, isDatabaseFailure, log } from "../../log";
import { ratesDate, ratesFetches } from "../../metrics";
import { PeriodicTask } from "../../periodic-task";
import { loadRates, OxrFile, RatesCache } from "./rates.service";

export interface RatesFetcherOptions {
  /** An Open Exchange Rates-compatible latest.json; may carry the app_id secret, so it is never logged. */
  url: string;
  refreshMs: number;
  /** The fetch to use (tests); the global one by default. */
  fetch?: typeof fetch;
  /** How long a fetch, body included, may take, in ms. */
  timeoutMs?: number;
}

export type FetchOutcome = { ok: true; date: string; count: number } | { ok: false; reason: string };

const STOPPED = "stopped";

/** A failure whose message is already short and safe to log (no URL, no body). */
class FetchFailure extends Error {}

/**
 * Keeps the exchange rates current from RATES_URL: a fetch at start, then one every `refreshMs`, never two at a time.
 * A fetch stores the file's rates under its UTC date next to those stored before, so events keep the rates of their own
 * day; a failed fetch changes nothing and the last rates stay in force until the next one succeeds.
 */
export class RatesFetcher {
  private readonly task: PeriodicTask;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  /** The URL's host, the one part of it a log line may name. */
  private readonly host: string;
  /** Aborts a download in flight at stop(), so a slow rates server does not hold up a shutdown for timeoutMs. */
  private stopping = new AbortController();
  private inFlight: Promise<FetchOutcome> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly cache: RatesCache,
    private readonly opts: RatesFetcherOptions,
  ) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.host = URL.canParse(opts.url) ? new URL(opts.url).host : "an invalid URL";
    this.task = new PeriodicTask(db, "rates", opts.refreshMs, () => this.fetchOnce());
  }

  /** Starts the refreshes and the first fetch at once; the caller need not wait for it (start-up keeps the stored rates meanwhile). */
  start(): Promise<unknown> {
    this.stopping = new AbortController();
    this.task.start();
    return this.task.kick();
  }

  /** Stops the refreshes; a download in flight is abandoned, rates being stored are waited for. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.task.stop(), this.inFlight]);
  }

  /**
   * One fetch, reported as a metric and one log line, never thrown: a fetch called while one runs shares its outcome,
   * so two never write at once. Conversions pick the new rates up at their cache's next refresh.
   */
  fetchOnce(): Promise<FetchOutcome> {
    this.inFlight ??= this.fetchAndStore().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async fetchAndStore(): Promise<FetchOutcome> {
    try {
      const { date, count } = await loadRates(this.db, await this.download());
      this.cache.invalidate();
      ratesFetches.inc({ outcome: "ok" });
      ratesDate.set(Date.parse(`${date}T00:00:00Z`) / 1000);
      log.info({ scope: "rates", date, currencies: count }, "exchange rates fetched");
      return { ok: true, date, count };
    } catch (err) {
      const reason = this.reasonOf(err);
      // A download given up at shutdown is not a failure of the rates server: neither counted nor warned of.
      if (reason === STOPPED) {
        log.debug({ scope: "rates" }, "exchange rates fetch given up at shutdown");
        return { ok: false, reason };
      }
      ratesFetches.inc({ outcome: "failed" });
      log.warn({ scope: "rates", reason }, "exchange rates not fetched; the last rates stay in force");
      return { ok: false, reason };
    }
  }

  /** GETs the file: HTTP 200 and JSON, or a FetchFailure; loadRates checks that it holds rates. */
  private async download(): Promise<OxrFile> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stopping.signal]);
    let text: string;
    try {
      const res = await this.fetch(this.opts.url, { signal, headers: { accept: "application/json" } });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        throw new FetchFailure(`HTTP ${res.status}`);
      }
      text = await res.text();
    } catch (err) {
      throw err instanceof FetchFailure ? err : new FetchFailure(this.networkReason(err));
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FetchFailure("invalid JSON");
    }
    // loadRates tells a missing `rates` apart, but would stumble on `"rates": null` with a TypeError.
    const rates = (body as { rates?: unknown } | null)?.rates;
    if (rates === null || Array.isArray(rates)) throw new FetchFailure("invalid rates file: `rates` is not an object of currencies");
    return body as OxrFile;
  }

  /**
   * Why the request or its body failed, without fetch's messages: they (and their causes) may quote the URL, which
   * can hold the app_id. A network error is told by its code and the host alone.
   */
  private networkReason(err: unknown): string {
    const name = (err as { name?: unknown } | null)?.name;
    if (name === "TimeoutError") return "timeout";
    if (name === "AbortError") return STOPPED;
    const code = driverError((err as { cause?: unknown } | null)?.cause).code ?? driverError(err).code ?? "network error";
    return `${code} from ${this.host}`;
  }

  /** What a log line may say of a failure after the download: a database error as describeFailure says, else loadRates's message. */
  private reasonOf(err: unknown): string {
    if (err instanceof FetchFailure) return err.message;
    if (isDatabaseFailure(err)) return describeFailure(err);
    // loadRates's own checks of the file: plain Errors whose message names what is wrong with it.
    return err instanceof Error ? err.message.split("\n")[0].slice(0, 200) : typeof err;
  }
}
