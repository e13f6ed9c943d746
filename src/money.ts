import Big from "big.js";
import cc from "currency-codes";

Big.DP = 30;
Big.RM = Big.roundHalfUp;

const digitsOf = new Map<string, number | null>();

/** A code's minor-unit digits, null for a code ISO 4217 does not have; the list is scanned once per code. */
function digitsOrNull(code: string): number | null {
  let digits = digitsOf.get(code);
  if (digits === undefined) digitsOf.set(code, (digits = cc.code(code)?.digits ?? null));
  return digits;
}

/** ISO 4217 minor-unit digits: 2 for USD, 0 for JPY and KRW, 3 for KWD and BHD. */
export function minorDigits(currency: string): number {
  const digits = digitsOrNull(currency);
  if (digits === null) throw new Error(`Unknown currency ${currency}`);
  return digits;
}

/** 10^digits as a Big, for the few precisions currencies have. */
const TEN = new Big(10);
const powersOfTen = new Map<number, Big>();
const power = (digits: number) => powersOfTen.get(digits) ?? powersOfTen.set(digits, TEN.pow(digits)).get(digits)!;

export function isKnownCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && digitsOrNull(code) !== null; // at most 26^3 codes remembered
}

/** An amount in major units (as sent, a float) to integer minor units, rounded half-up at the currency's precision. */
export function toMinor(amount: number, currency: string): number {
  const digits = minorDigits(currency);
  return new Big(String(amount)).round(digits).times(power(digits)).toNumber();
}

/** Integer minor units back to major units, e.g. 4999 USD -> 49.99, 1500 JPY -> 1500. */
export function fromMinor(minor: number, currency: string): number {
  return new Big(minor).div(power(minorDigits(currency))).toNumber();
}

/**
 * Converts minor units of `from` into minor units of `to` at `rate` (units of `to`
 * per one unit of `from`), rounding half-up once at the end.
 */
export function convertMinor(minor: number, from: string, to: string, rate: string): number {
  if (from === to) return minor;
  const shift = minorDigits(to) - minorDigits(from);
  const scaled = new Big(minor).times(rate);
  return (shift >= 0 ? scaled.times(power(shift)) : scaled.div(power(-shift))).round(0).toNumber();
}
