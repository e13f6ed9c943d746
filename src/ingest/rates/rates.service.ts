import Big from "big.js";
import { DataSource } from "typeorm";
import { multiRowInsert, toNumber, withTransaction } from "../../db/sql";
import { isKnownCurrency } from "../../money";
import { dialectOf } from "../../db/dialect";
// Imported, not read from a path: the build (tsc) copies it into dist/ beside the code.
import SNAPSHOT from "./snapshot.json";

/** The Open Exchange Rates file format: units of each currency per one `base`. */
export interface OxrFile {
  timestamp: number;
  base?: string;
  rates: Record<string, number>;
}

export interface AppliedRate {
  /** Units of the target currency per one unit of the source, as a decimal string. */
  rate: string;
  /** UTC date of the rates used; null when no conversion was needed. */
  rateDate: string | null;
}

const REFRESH_MS = 60_000;

interface Dated {
  date: string;
  perUsd: Big;
}

/**
 * Exchange rates by date, cached in memory: conversion happens on the hot path,
 * so the cache is refreshed at most once a minute, and only when the table changed.
 */
export class RatesCache {
  private byCurrency = new Map<string, Dated[]>();
  private stamp = "";
  private checkedAt = 0;
  private checking: Promise<void> | null = null;

  constructor(private readonly db: DataSource) {}

  /**
   * Makes sure the cache is at most a minute old; call before convert(). Requests that come while it is checked wait
   * for that check (at start-up each would otherwise read and parse every rate, one after the other).
   */
  async refresh(now = Date.now()): Promise<void> {
    if (now - this.checkedAt < REFRESH_MS) return;
    this.checking ??= this.check(now).finally(() => (this.checking = null));
    await this.checking;
  }

  private async check(now: number): Promise<void> {
    const [meta] = await this.db.query("SELECT COUNT(*) AS n, MAX(rate_date) AS latest FROM exchange_rates");
    const stamp = `${toNumber(meta.n)}:${meta.latest}`;
    if (stamp !== this.stamp) {
      const rows: { currency: string; rate_date: string; per_usd: string }[] = await this.db.query(
        "SELECT currency, rate_date, per_usd FROM exchange_rates ORDER BY currency, rate_date",
      );
      const next = new Map<string, Dated[]>();
      for (const r of rows) {
        const list = next.get(r.currency) ?? [];
        list.push({ date: r.rate_date, perUsd: new Big(r.per_usd) });
        next.set(r.currency, list);
      }
      this.byCurrency = next;
      this.stamp = stamp;
    }
    this.checkedAt = now;
  }

  /** Forgets the cache so the next refresh() reloads (after loading new rates in-process). */
  invalidate(): void {
    this.checkedAt = 0;
  }

  has(currency: string): boolean {
    return this.byCurrency.has(currency);
  }

  /** The rate from `from` to `to` in force on the day of `at`: the latest loaded on or before it, else the earliest. */
  rate(from: string, to: string, at: Date): AppliedRate {
    if (from === to) return { rate: "1", rateDate: null };
    const day = at.toISOString().slice(0, 10);
    const a = this.pick(from, day);
    const b = this.pick(to, day);
    const rate = b.perUsd.div(a.perUsd).prec(12).toFixed();
    return { rate, rateDate: a.date < b.date ? a.date : b.date };
  }

  private pick(currency: string, day: string): Dated {
    const list = this.byCurrency.get(currency);
    if (!list?.length) throw new Error(`No exchange rate for ${currency}`);
    let found = list[0];
    for (const d of list) {
      if (d.date > day) break;
      found = d;
    }
    return found;
  }
}

/** Loads a file of rates (Open Exchange Rates format) as the rates in force from its UTC date; returns what was stored. */
export async function loadRates(db: DataSource, file: OxrFile): Promise<{ date: string; count: number }> {
  if (!file || typeof file.timestamp !== "number" || typeof file.rates !== "object") {
    throw new Error("Expected an Open Exchange Rates JSON file: {\"timestamp\": <unix seconds>, \"base\": \"USD\", \"rates\": {...}}");
  }
  const base = (file.base ?? "USD").toUpperCase();
  const baseInUsd = base === "USD" ? 1 : file.rates.USD;
  if (!baseInUsd) throw new Error(`The file's base is ${base} but it has no USD rate to convert from`);
  const date = new Date(file.timestamp * 1000).toISOString().slice(0, 10);
  const rows: [string, string, string][] = [];
  for (const [code, value] of Object.entries(file.rates)) {
    if (!isKnownCurrency(code) || typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) continue;
    rows.push([code, date, new Big(value).div(baseInUsd).prec(15).toFixed()]);
  }
  if (!rows.some(r => r[0] === "USD")) rows.push(["USD", date, "1"]);
  const tail = dialectOf(db).onConflict("exchange_rates", ["currency", "rate_date"], { per_usd: (_stored, incoming) => incoming });
  await withTransaction(db, em => em.query(...multiRowInsert("exchange_rates", ["currency", "rate_date", "per_usd"], rows, tail)));
  return { date, count: rows.length };
}

/** On an empty rates table, loads the snapshot bundled with the server. */
export async function ensureRates(db: DataSource): Promise<void> {
  const [row] = await db.query("SELECT COUNT(*) AS n FROM exchange_rates");
  if (toNumber(row.n) === 0) await loadRates(db, SNAPSHOT);
}
