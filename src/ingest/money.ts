import Big from "big.js";
import cc from "currency-codes";

Big.DP = 30;
Big.RM = Big.roundHalfUp;

/** ISO 4217 minor-unit digits: 2 for USD, 0 for JPY and KRW, 3 for KWD and BHD. */
export function minorDigits(currency: string): number {
  const entry = cc.code(currency);
  if (!entry) throw new Error(`Unknown currency ${currency}`);
  return entry.digits;
}

export function isKnownCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && cc.code(code) !== undefined;
}

/** An amount in major units (as sent, a float) to integer minor units, rounded half-up at the currency's precision. */
export function toMinor(amount: number, currency: string): number {
  const digits = minorDigits(currency);
  return new Big(String(amount)).round(digits).times(new Big(10).pow(digits)).toNumber();
}

/** Integer minor units back to major units, e.g. 4999 USD -> 49.99, 1500 JPY -> 1500. */
export function fromMinor(minor: number, currency: string): number {
  return new Big(minor).div(new Big(10).pow(minorDigits(currency))).toNumber();
}

/**
 * Converts minor units of `from` into minor units of `to` at `rate` (units of `to`
 * per one unit of `from`), rounding half-up once at the end.
 */
export function convertMinor(minor: number, from: string, to: string, rate: string): number {
  if (from === to) return minor;
  const shift = minorDigits(to) - minorDigits(from);
  const scaled = new Big(minor).times(rate);
  return (shift >= 0 ? scaled.times(new Big(10).pow(shift)) : scaled.div(new Big(10).pow(-shift))).round(0).toNumber();
}
