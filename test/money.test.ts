import { convertMinor, fromMinor, toMinor } from "../src/money";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

const DAY = 86_400_000;

describe("money helpers", () => {
  it("rounds a sent amount half-up at the currency's ISO 4217 precision", () => {
    expect(toMinor(1.005, "USD")).toBe(101);
    expect(toMinor(0.1 + 0.2, "USD")).toBe(30);
    expect(toMinor(1234.5, "JPY")).toBe(1235);
    expect(toMinor(1500, "KRW")).toBe(1500);
    expect(toMinor(1.2345, "KWD")).toBe(1235);
    expect(toMinor(0.5, "BHD")).toBe(500);
    expect(fromMinor(1235, "KWD")).toBe(1.235);
    expect(fromMinor(4999, "USD")).toBe(49.99);
  });

  it("converts between precisions and rounds once", () => {
    expect(convertMinor(1999, "USD", "EUR", "0.8")).toBe(1599); // 1599.2
    expect(convertMinor(1000, "USD", "JPY", "150")).toBe(1500); // 10.00 USD -> 1500 JPY
    expect(convertMinor(1234, "KWD", "EUR", "2.66666666667")).toBe(329); // 1.234 KWD -> 3.29066... EUR
    expect(convertMinor(777, "EUR", "EUR", "1")).toBe(777);
  });
});

// Test rates (fixtures/rates-2026-01-01.json): 1 USD = 0.8 EUR = 150 JPY = 0.3 KWD; from ten days ago: 1 USD = 0.9 EUR.
describe.each(dbTargets())("conversion into a EUR appspace on $name", target => {
  let h: Harness;
  let pk: string;
  let appspaceId: number;
  const recent = new Date(Date.now() - 10 * DAY);
  const recentDay = recent.toISOString().slice(0, 10);

  beforeAll(async () => {
    h = await startHarness(target, [{ timestamp: Math.floor(recent.getTime() / 1000), base: "USD", rates: { USD: 1, EUR: 0.9, JPY: 150, KWD: 0.3 } }]);
    ({ publishableKey: pk, appspaceId } = await h.appspace({ currency: "EUR" }));
  });
  afterAll(() => h.close());

  it("stores base-currency minor units beside the original amount, currency, rate and rate date", async () => {
    const old = new Date(Date.now() - 20 * DAY).toISOString();
    const res = await h.gql(TRACK_EVENTS, {
      events: [
        { eventType: "PURCHASE", transactionId: "usd", revenue: 19.99, currency: "USD", tax: 1.5, timestamp: old },
        { eventType: "PURCHASE", transactionId: "eur", revenue: 12.34, timestamp: old },
        { eventType: "PURCHASE", transactionId: "jpy", revenue: 1234, currency: "JPY", timestamp: old },
        { eventType: "PURCHASE", transactionId: "kwd", revenue: 1.234, currency: "kwd", timestamp: old },
        { eventType: "PURCHASE", transactionId: "usd-new", revenue: 19.99, currency: "USD" },
      ],
    }, pk);
    expect(res.body.data).toEqual({ trackEvents: { ok: true, accepted: 5, errors: [] } });
    const rows = await h.db.query(
      `SELECT transaction_id, revenue, tax, currency, original_revenue, original_tax, fx_rate, fx_rate_date
         FROM events WHERE appspace_id = ? ORDER BY transaction_id`, [appspaceId]);
    const n = (v: unknown) => (v === null ? null : Number(v));
    expect(rows.map((r: any) => ({ ...r, revenue: n(r.revenue), tax: n(r.tax), original_revenue: n(r.original_revenue), original_tax: n(r.original_tax) }))).toEqual([
      // 12.34 EUR: no conversion.
      { transaction_id: "eur", revenue: 1234, tax: null, currency: "EUR", original_revenue: 1234, original_tax: null, fx_rate: "1", fx_rate_date: null },
      // 1234 JPY x (0.8 / 150) = 6.5813 EUR -> 658 cents.
      { transaction_id: "jpy", revenue: 658, tax: null, currency: "JPY", original_revenue: 1234, original_tax: null, fx_rate: "0.00533333333333", fx_rate_date: "2026-01-01" },
      // 1.234 KWD x (0.8 / 0.3) = 3.2907 EUR -> 329 cents.
      { transaction_id: "kwd", revenue: 329, tax: null, currency: "KWD", original_revenue: 1234, original_tax: null, fx_rate: "2.66666666667", fx_rate_date: "2026-01-01" },
      // 19.99 USD x 0.8 = 15.992 EUR -> 1599 cents; tax 1.50 USD -> 1.20 EUR.
      { transaction_id: "usd", revenue: 1599, tax: 120, currency: "USD", original_revenue: 1999, original_tax: 150, fx_rate: "0.8", fx_rate_date: "2026-01-01" },
      // The same amount today uses the rates in force from ten days ago: x 0.9 = 17.991 -> 1799 cents.
      { transaction_id: "usd-new", revenue: 1799, tax: null, currency: "USD", original_revenue: 1999, original_tax: null, fx_rate: "0.9", fx_rate_date: recentDay },
    ]);
  });

  it("converts each item at its own currency", async () => {
    await h.gql(TRACK_EVENTS, {
      events: [{
        eventType: "ADD_TO_CART", currency: "JPY", eventId: "cart-mixed",
        items: [{ itemId: "a", price: 1500, quantity: 2 }, { itemId: "b", price: 10, currency: "USD" }, { itemId: "c" }],
      }],
    }, pk);
    const rows = await h.db.query(
      `SELECT i.item_id, i.price, i.currency, i.original_price, i.fx_rate, i.quantity FROM event_items i
         JOIN events e ON e.id = i.event_row_id WHERE e.appspace_id = ? AND e.event_id = 'cart-mixed' ORDER BY i.line`, [appspaceId]);
    expect(rows.map((r: any) => ({ ...r, price: r.price === null ? null : Number(r.price), original_price: r.original_price === null ? null : Number(r.original_price) }))).toEqual([
      // 1500 JPY x (0.9 / 150) = 9.00 EUR
      { item_id: "a", price: 900, currency: "JPY", original_price: 1500, fx_rate: "0.006", quantity: 2 },
      { item_id: "b", price: 900, currency: "USD", original_price: 1000, fx_rate: "0.9", quantity: 1 },
      { item_id: "c", price: null, currency: "JPY", original_price: null, fx_rate: "0.006", quantity: 1 },
    ]);
  });
});
