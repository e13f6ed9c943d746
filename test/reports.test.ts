import fs from "node:fs";
import path from "node:path";
import { dbTargets, dbTargetsAndReads } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, settleReads, startHarness } from "./helpers/harness";
import { at, EVENTS, NOW, range } from "./helpers/report-fixture";

describe.each(dbTargetsAndReads())("revenue reports on $name from $reads", target => {
  let h: Harness;
  let sk: string;
  let pk: string;

  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
    ({ secretKey: sk, publishableKey: pk } = await h.appspace({ currency: "EUR" }));
    const res = await h.gql(TRACK_EVENTS, { events: EVENTS }, pk);
    expect(res.body).toEqual({ data: { trackEvents: { ok: true, accepted: EVENTS.length, errors: [] } } });
    expect(await h.count("events")).toBe(EVENTS.length - 1);
    await settleReads(h, target.reads);
  });
  afterAll(() => h.close());

  const report = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await h.gql(query, variables, sk);
    expect(res.body.errors).toBeUndefined();
    return res.body.data!;
  };

  it("overview of the whole fixture", async () => {
    const { overview } = await report(OVERVIEW, range("03-01", "03-10"));
    expect(overview).toEqual({
      totalRevenue: 184, netRevenue: 154, totalOrders: 5, totalRefunds: 3, refundAmount: 30, avgOrderValue: 36.8, totalItemsSold: 9,
      cartAbandonmentRate: 50, addToCartRate: 60, currency: "EUR", days: 10, start: "2026-03-01", end: "2026-03-10", previous: null,
    });
  });

  it("defaults to the last 30 days, today included", async () => {
    const { overview } = await report(OVERVIEW);
    expect(overview).toMatchObject({ totalRevenue: 184, totalOrders: 5, days: 30, start: "2026-02-09", end: "2026-03-10" });
    const { overview: week } = await report(OVERVIEW, { range: { days: 7 } });
    // 03-04..03-10: P2-P5 and all three refunds.
    expect(week).toMatchObject({ totalRevenue: 84, totalOrders: 4, refundAmount: 30, netRevenue: 54, days: 7, start: "2026-03-04" });
  });

  it("an empty range is all zeros", async () => {
    const empty = range("02-01", "02-05");
    expect((await report(OVERVIEW, empty)).overview).toEqual({
      totalRevenue: 0, netRevenue: 0, totalOrders: 0, totalRefunds: 0, refundAmount: 0, avgOrderValue: 0, totalItemsSold: 0,
      cartAbandonmentRate: 0, addToCartRate: 0, currency: "EUR", days: 5, start: "2026-02-01", end: "2026-02-05", previous: null,
    });
    expect((await report(TIMESERIES, empty)).revenueTimeseries.series).toEqual(
      ["01", "02", "03", "04", "05"].map(d => ({ date: `2026-02-${d}`, revenue: 0, orders: 0 })),
    );
    expect((await report(FUNNEL, empty)).funnel.steps.map((s: { count: number; percentage: number }) => [s.count, s.percentage])).toEqual(
      [[0, 100], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]],
    );
    expect((await report(TOP_PRODUCTS, empty)).topProducts).toEqual({ products: [], days: 5 });
    expect((await report(CARTS, empty)).cartAbandonment).toEqual({ abandonmentRate: 0, abandonedCarts: 0, abandonedRevenue: 0, completedCarts: 0, days: 5 });
    const breakdowns = await report(BREAKDOWNS, empty);
    expect(breakdowns).toEqual({
      revenueByChannel: { channels: [] }, revenueByCoupon: { coupons: [] }, revenueByDevice: { devices: [] },
      revenueByPlatform: { platforms: [] }, revenueByCountry: { countries: [] },
    });
  });

  it("a range with only refunds, and a cancel that takes what is left of its order", async () => {
    expect((await report(OVERVIEW, range("03-08", "03-08"))).overview).toMatchObject({
      totalRevenue: 0, netRevenue: -10, totalOrders: 0, totalRefunds: 1, refundAmount: 10, avgOrderValue: 0, totalItemsSold: 0, days: 1,
    });
    // The CANCEL of o-5 alone: 20.00 minus the 5.00 refunded the day before.
    expect((await report(OVERVIEW, range("03-07", "03-07"))).overview).toMatchObject({ totalRefunds: 1, refundAmount: 15, netRevenue: -15 });
    expect((await report(OVERVIEW, range("03-06", "03-07"))).overview).toMatchObject({ totalRefunds: 2, refundAmount: 20 });
  });

  it("timeseries: one point per day, zeros included, a multi-currency day summed in EUR", async () => {
    const { revenueTimeseries } = await report(TIMESERIES, range("03-01", "03-10"));
    const values: Record<string, [number, number]> = { "02": [100, 1], "04": [64, 3], "05": [20, 1] };
    expect(revenueTimeseries).toEqual({
      days: 10,
      previous: null,
      series: ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"].map(d => {
        const [revenue, orders] = values[d] ?? [0, 0];
        return { date: `2026-03-${d}`, revenue, orders };
      }),
    });
  });

  it("compareTo PREVIOUS_PERIOD returns the days just before, beside the current ones", async () => {
    const vars = { ...range("03-04", "03-05"), compareTo: "PREVIOUS_PERIOD" };
    const { overview } = await report(OVERVIEW, vars);
    // Current: P2-P5 = 84.00 / 4; dave's view and add (harry's add preceded his view); cart-d done, harry's abandoned.
    expect(overview).toEqual({
      totalRevenue: 84, netRevenue: 84, totalOrders: 4, totalRefunds: 0, refundAmount: 0, avgOrderValue: 21, totalItemsSold: 6,
      cartAbandonmentRate: 50, addToCartRate: 50, currency: "EUR", days: 2, start: "2026-03-04", end: "2026-03-05",
      // Previous (03-02..03-03): P1; views by alice, bob, carol, adds by alice and bob; alice's cart done, bob's abandoned.
      previous: {
        totalRevenue: 100, netRevenue: 100, totalOrders: 1, totalRefunds: 0, refundAmount: 0, avgOrderValue: 100, totalItemsSold: 3,
        cartAbandonmentRate: 50, addToCartRate: 66.7, currency: "EUR", days: 2, start: "2026-03-02", end: "2026-03-03", previous: null,
      },
    });
    const { revenueTimeseries } = await report(TIMESERIES, vars);
    expect(revenueTimeseries).toEqual({
      days: 2,
      series: [{ date: "2026-03-04", revenue: 64, orders: 3 }, { date: "2026-03-05", revenue: 20, orders: 1 }],
      previous: { days: 2, previous: null, series: [{ date: "2026-03-02", revenue: 100, orders: 1 }, { date: "2026-03-03", revenue: 0, orders: 0 }] },
    });
  });

  it("funnel counts people in order, following anon-a to alice", async () => {
    const { funnel } = await report(FUNNEL, range("03-01", "03-10"));
    expect(funnel).toEqual({
      days: 10,
      steps: [
        { name: "view_item", count: 5, percentage: 100 },
        { name: "add_to_cart", count: 3, percentage: 60 },
        { name: "view_cart", count: 2, percentage: 66.7 },
        { name: "begin_checkout", count: 2, percentage: 100 },
        { name: "add_payment_info", count: 1, percentage: 50 },
        { name: "purchase", count: 1, percentage: 100 },
      ],
    });
  });

  it("top products break revenue ties by name and carry catalog details", async () => {
    const { topProducts } = await report(TOP_PRODUCTS, { ...range("03-01", "03-10"), limit: 10 });
    expect(topProducts).toEqual({
      days: 10,
      products: [
        { itemId: "sku-a", itemName: "Alpha Tee", revenue: 68, quantity: 4, orders: 2, product: { itemId: "sku-a", name: "Alpha Tee", brand: "Acme" } },
        { itemId: "sku-c", itemName: "Apron", revenue: 48, quantity: 2, orders: 1, product: { itemId: "sku-c", name: "Apron", brand: "Acme" } },
        { itemId: "sku-b", itemName: "Zebra Bag", revenue: 48, quantity: 2, orders: 2, product: { itemId: "sku-b", name: "Zebra Bag", brand: "Bolt" } },
        { itemId: "sku-d", itemName: "Dress", revenue: 20, quantity: 1, orders: 1, product: { itemId: "sku-d", name: "Dress", brand: null } },
      ],
    });
    const { topProducts: two } = await report(TOP_PRODUCTS, { ...range("03-01", "03-10"), limit: 2 });
    expect(two.products.map((p: { itemId: string }) => p.itemId)).toEqual(["sku-a", "sku-c"]);
  });

  it("channel, coupon, device, platform and country breakdowns", async () => {
    expect(await report(BREAKDOWNS, range("03-01", "03-10"))).toEqual({
      revenueByChannel: {
        channels: [
          { campaign: "spring", source: "newsletter", medium: "email", revenue: 100, orders: 1, conversionRate: 50 },
          { campaign: null, source: "google", medium: "cpc", revenue: 48, orders: 1, conversionRate: 100 },
          { campaign: null, source: null, medium: null, revenue: 36, orders: 3, conversionRate: 33.3 },
        ],
      },
      // SAVE10: (10.00 + 0.80) / 2 = 5.40 average discount.
      revenueByCoupon: { coupons: [{ couponCode: "SAVE10", revenue: 108, orders: 2, avgDiscount: 5.4 }, { couponCode: "WELCOME", revenue: 20, orders: 1, avgDiscount: 2 }] },
      revenueByDevice: { devices: [{ deviceType: "mobile", revenue: 108, orders: 2 }, { deviceType: "desktop", revenue: 68, orders: 2 }, { deviceType: "unknown", revenue: 8, orders: 1 }] },
      revenueByPlatform: { platforms: [{ platform: "ios", revenue: 108, orders: 2 }, { platform: "web", revenue: 68, orders: 2 }, { platform: "unknown", revenue: 8, orders: 1 }] },
      revenueByCountry: {
        countries: [
          { country: "DE", revenue: 120, orders: 2 }, { country: "US", revenue: 48, orders: 1 },
          { country: "JP", revenue: 8, orders: 1 }, { country: "KW", revenue: 8, orders: 1 },
        ],
      },
    });
  });

  it("revenueBreakdown groups by any combination of order and line dimensions", async () => {
    const byCountryDevice = await report(BREAKDOWN, { ...range("03-01", "03-10"), by: ["COUNTRY", "DEVICE"] });
    expect(byCountryDevice.revenueBreakdown).toEqual({
      by: ["COUNTRY", "DEVICE"],
      days: 10,
      rows: [
        { country: "DE", deviceType: "mobile", brand: null, revenue: 100, orders: 1, items: 3 },
        { country: "US", deviceType: "desktop", brand: null, revenue: 48, orders: 1, items: 2 },
        { country: "DE", deviceType: "desktop", brand: null, revenue: 20, orders: 1, items: 1 },
        { country: "JP", deviceType: null, brand: null, revenue: 8, orders: 1, items: 1 },
        { country: "KW", deviceType: "mobile", brand: null, revenue: 8, orders: 1, items: 2 },
      ],
    });
    // Lines: Acme = sku-a 68 + sku-c 48 (sku-c's brand only from the catalog), Bolt = sku-b 48, no brand = sku-d 20.
    const byBrand = await report(BREAKDOWN, { ...range("03-01", "03-10"), by: ["BRAND"], limit: 2 });
    expect(byBrand.revenueBreakdown.rows).toEqual([
      { country: null, deviceType: null, brand: "Acme", revenue: 116, orders: 3, items: 6 },
      { country: null, deviceType: null, brand: "Bolt", revenue: 48, orders: 2, items: 2 },
    ]);
  });

  it.each(documentedExamples())("the example of docs/reports.md answers as documented: %s", async (_title, query, expected) => {
    expect(await report(query)).toEqual(expected);
  });

  it("cart abandonment: cartIds and cartless runs, removals subtracted, emptied carts ignored", async () => {
    const { cartAbandonment } = await report(CARTS, range("03-01", "03-10"));
    expect(cartAbandonment).toEqual({ abandonmentRate: 50, abandonedCarts: 2, abandonedRevenue: 82.5, completedCarts: 2, days: 10 });
  });
});

describe.each(dbTargets())("bases of 0 and 3 decimals on $name", target => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
  });
  afterAll(() => h.close());

  const overviewOf = async (currency: string, events: object[]) => {
    const { secretKey } = await h.appspace({ currency });
    expect((await h.gql(TRACK_EVENTS, { events }, secretKey)).body.data!.trackEvents).toEqual({ ok: true, accepted: events.length, errors: [] });
    const res = await h.gql(OVERVIEW, range("03-09", "03-09"), secretKey);
    return res.body.data!.overview;
  };
  const zeros = { totalRefunds: 0, refundAmount: 0, totalItemsSold: 0, cartAbandonmentRate: 0, addToCartRate: 0, days: 1, start: "2026-03-09", end: "2026-03-09", previous: null };

  it("sums and averages in whole yen, rounding half-up", async () => {
    // 999 JPY + 0.01 USD (1.5 JPY, stored as 2) = 1001 JPY over 2 orders: 500.5 -> 501.
    const overview = await overviewOf("JPY", [
      { eventType: "PURCHASE", transactionId: "j-1", revenue: 999, timestamp: at("09", "12:00") },
      { eventType: "PURCHASE", transactionId: "j-2", revenue: 0.01, currency: "USD", timestamp: at("09", "13:00") },
    ]);
    expect(overview).toEqual({ ...zeros, totalRevenue: 1001, netRevenue: 1001, totalOrders: 2, avgOrderValue: 501, currency: "JPY" });
  });

  it("keeps three decimals for a KWD base", async () => {
    // 1.000 + 1.2345 (stored as 1.235) = 2.235 KWD over 2 orders: 1.1175 -> 1.118.
    const overview = await overviewOf("KWD", [
      { eventType: "PURCHASE", transactionId: "k-1", revenue: 1, timestamp: at("09", "12:00") },
      { eventType: "PURCHASE", transactionId: "k-2", revenue: 1.2345, timestamp: at("09", "13:00") },
    ]);
    expect(overview).toEqual({ ...zeros, totalRevenue: 2.235, netRevenue: 2.235, totalOrders: 2, avgOrderValue: 1.118, currency: "KWD" });
  });
});

const OVERVIEW = /* GraphQL */ `
  query Overview($range: DateRange, $compareTo: CompareTo) {
    overview(range: $range, compareTo: $compareTo) {
      totalRevenue netRevenue totalOrders totalRefunds refundAmount avgOrderValue totalItemsSold cartAbandonmentRate addToCartRate currency days start end
      previous { totalRevenue netRevenue totalOrders totalRefunds refundAmount avgOrderValue totalItemsSold cartAbandonmentRate addToCartRate currency days start end previous { days } }
    }
  }
`;

const TIMESERIES = /* GraphQL */ `
  query Series($range: DateRange, $compareTo: CompareTo) {
    revenueTimeseries(range: $range, compareTo: $compareTo) { days series { date revenue orders } previous { days series { date revenue orders } previous { days } } }
  }
`;

const FUNNEL = /* GraphQL */ `
  query Funnel($range: DateRange) { funnel(range: $range) { days steps { name count percentage } } }
`;

const TOP_PRODUCTS = /* GraphQL */ `
  query Top($range: DateRange, $limit: Int) {
    topProducts(range: $range, limit: $limit) { days products { itemId itemName revenue quantity orders product { itemId name brand } } }
  }
`;

const BREAKDOWNS = /* GraphQL */ `
  query Breakdowns($range: DateRange) {
    revenueByChannel(range: $range) { channels { campaign source medium revenue orders conversionRate } }
    revenueByCoupon(range: $range) { coupons { couponCode revenue orders avgDiscount } }
    revenueByDevice(range: $range) { devices { deviceType revenue orders } }
    revenueByPlatform(range: $range) { platforms { platform revenue orders } }
    revenueByCountry(range: $range) { countries { country revenue orders } }
  }
`;

const BREAKDOWN = /* GraphQL */ `
  query Breakdown($range: DateRange, $by: [BreakdownDimension!]!, $limit: Int) {
    revenueBreakdown(range: $range, by: $by, limit: $limit) { by days rows { country deviceType brand revenue orders items } }
  }
`;

const CARTS = /* GraphQL */ `
  query Carts($range: DateRange) { cartAbandonment(range: $range) { abandonmentRate abandonedCarts abandonedRevenue completedCarts days } }
`;

/** The ```graphql / ```json pairs of docs/reports.md, which document this fixture: one per report section. */
function documentedExamples(): [string, string, unknown][] {
  const reports = fs.readFileSync(path.join(__dirname, "..", "docs", "reports.md"), "utf8");
  const pairs = [...reports.matchAll(/```graphql\n([\s\S]*?)```\n```json\n([\s\S]*?)```/g)];
  expect(pairs).toHaveLength(7);
  return pairs.map(([, query, json]) => [query.slice(0, 60).replace(/\s+/g, " "), query, JSON.parse(json)]);
}
