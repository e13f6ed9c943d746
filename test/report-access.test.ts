import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

const NOW = new Date("2026-03-10T20:00:00Z");

const EVERY_REPORT: Record<string, string> = {
  overview: `{ overview { totalRevenue } }`,
  revenueTimeseries: `{ revenueTimeseries { days } }`,
  funnel: `{ funnel { days } }`,
  topProducts: `{ topProducts { days } }`,
  revenueBreakdown: `{ revenueBreakdown(by: [COUNTRY]) { days } }`,
  revenueByChannel: `{ revenueByChannel { days } }`,
  revenueByCoupon: `{ revenueByCoupon { days } }`,
  revenueByDevice: `{ revenueByDevice { days } }`,
  revenueByPlatform: `{ revenueByPlatform { days } }`,
  revenueByCountry: `{ revenueByCountry { days } }`,
  cartAbandonment: `{ cartAbandonment { days } }`,
};


describe.each(dbTargets())("report ranges, keys and loaders on $name", target => {
  let h: Harness;
  let a: { pk: string; sk: string };
  let b: { pk: string; sk: string };

  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
    const created = [await h.appspace({ currency: "EUR", retentionDays: 90 }), await h.appspace({ name: "other", currency: "EUR" })];
    [a, b] = created.map(c => ({ pk: c.publishableKey, sk: c.secretKey }));
    // Appspace A: 120 products bought in two orders (revenue = their prices), sku-000 the dearest; an anonymous view and a userId's add that B links.
    const items = Array.from({ length: 120 }, (_, n) => ({ itemId: `sku-${String(n).padStart(3, "0")}`, itemName: `Product ${n}`, price: 200 - n }));
    const ofA = [
      {
        eventType: "PURCHASE", userId: "u-a", transactionId: "a-1", revenue: 15050, timestamp: "2026-03-09T10:00:00Z", items: items.slice(0, 100),
        properties: [{ key: "campaign", value: "mine" }],
      },
      // Cancels A's a-1 (15050.00), not B's order of the same id.
      { eventType: "CANCEL", transactionId: "a-1", timestamp: "2026-03-09T13:00:00Z" },
      { eventType: "PURCHASE", userId: "u-a", transactionId: "a-2", revenue: 1810, timestamp: "2026-03-09T11:00:00Z", items: items.slice(100) },
      { eventType: "VIEW_ITEM", anonymousId: "shared", timestamp: "2026-03-09T12:00:00Z", items: [{ itemId: "sku-000" }] },
      { eventType: "ADD_TO_CART", userId: "u-b", timestamp: "2026-03-09T12:05:00Z", items: [{ itemId: "sku-000" }] },
    ];
    // Appspace B: its own purchase, its own name for sku-000, and a link of "shared" to u-b that A must not follow.
    const ofB = [
      {
        eventType: "PURCHASE", userId: "u-b", anonymousId: "shared", transactionId: "a-1", revenue: 999, timestamp: "2026-03-09T10:00:00Z",
        items: [{ itemId: "sku-000", itemName: "Secret", price: 999 }], properties: [{ key: "campaign", value: "theirs" }],
      },
    ];
    for (const [events, key] of [[ofA, a.pk], [ofB, b.pk]] as const) {
      expect((await h.gql(TRACK_EVENTS, { events }, key)).body.data!.trackEvents).toEqual({ ok: true, accepted: events.length, errors: [] });
    }
  });
  afterAll(() => h.close());

  it.each([
    [{ days: 0 }, "range.days must be at least 1; got 0", "range.days"],
    [{ days: -3 }, "range.days must be at least 1; got -3", "range.days"],
    [{ days: 7, start: "2026-03-01", end: "2026-03-02" }, "range: give either days or start and end, not both", "range"],
    [{ start: "2026-03-01" }, "range.end is required when range.start is given", "range"],
    [{ end: "2026-03-01" }, "range.start is required when range.end is given", "range"],
    [{ start: "2026-03-05", end: "2026-03-01" }, "range.start (2026-03-05) is after range.end (2026-03-01)", "range.start"],
    [{ start: "2026-03-11", end: "2026-03-12" }, "range.start (2026-03-11) is after today (2026-03-10)", "range.start"],
    [{ start: "2025-01-01", end: "2025-06-01" }, "range.end (2025-06-01) is older than the appspace keeps data (retention 90 days: from 2025-12-11)", "range.end"],
  ])("rejects the range %j", async (range, message, field) => {
    const res = await h.gql(OVERVIEW, { range }, a.sk);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ data: null, errors: [expect.objectContaining({ message, extensions: { code: "BAD_USER_INPUT", field } })] });
  });

  it("rejects an impossible date before any resolver runs", async () => {
    const res = await h.gql(OVERVIEW, { range: { start: "2026-02-30", end: "2026-03-01" } }, a.sk);
    expect(res.status).toBe(400);
    expect(res.body.errors![0].extensions!.code).toBe("BAD_USER_INPUT");
    expect(res.body.errors![0].message).toContain('Date must be a calendar date YYYY-MM-DD; got "2026-02-30"');
  });

  it("clamps ranges to the appspace's retention and to today", async () => {
    const days = await h.gql(OVERVIEW, { range: { days: 1000 } }, a.sk);
    expect(days.body.data!.overview).toEqual({ days: 90, start: "2025-12-11", end: "2026-03-10", totalRevenue: 16860 });
    const dates = await h.gql(OVERVIEW, { range: { start: "2020-01-01", end: "2027-01-01" } }, a.sk);
    expect(dates.body.data!.overview).toEqual({ days: 90, start: "2025-12-11", end: "2026-03-10", totalRevenue: 16860 });
  });

  it.each([
    [{ limit: 0 }, "limit must be between 1 and 100; got 0"],
    [{ limit: 101 }, "limit must be between 1 and 100; got 101"],
  ])("topProducts rejects %j", async (vars, message) => {
    const res = await h.gql(TOP_PRODUCTS, vars, a.sk);
    expect(res.body.errors).toEqual([expect.objectContaining({ message, extensions: { code: "BAD_USER_INPUT", field: "limit" } })]);
  });

  it.each([
    [{ by: [] }, "by must name at least one dimension", "by"],
    [{ by: ["COUNTRY", "COUNTRY"] }, "by must not repeat a dimension", "by"],
    [{ by: ["COUNTRY"], limit: 1001 }, "limit must be between 1 and 1000; got 1001", "limit"],
  ])("revenueBreakdown rejects %j", async (vars, message, field) => {
    const res = await h.gql(BREAKDOWN, vars, a.sk);
    expect(res.body.errors).toEqual([expect.objectContaining({ message, extensions: { code: "BAD_USER_INPUT", field } })]);
  });

  it.each(Object.entries(EVERY_REPORT))("%s needs the scope reports:read: FORBIDDEN (403) with a publishable key, 401 without", async (name, query) => {
    const forbidden = await h.gql(query, {}, a.pk);
    expect(forbidden.status).toBe(403);
    const message = `${name} needs a key with the scope reports:read; a publishable key (pk_...) only sends events: use a secret key (sk_...)`;
    expect(forbidden.body).toEqual({ data: null, errors: [expect.objectContaining({ message, extensions: { code: "FORBIDDEN", scope: "reports:read" } })] });
    const anonymous = await h.gql(query, {}, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors![0].extensions!.code).toBe("UNAUTHENTICATED");
  });

  it("each appspace sees only its own events, links and catalog", async () => {
    const mine = await h.gql(`{
      overview { totalRevenue totalOrders refundAmount } funnel { steps { count } } topProducts(limit: 1) { products { itemId revenue product { name } } }
      revenueByChannel { channels { campaign revenue conversionRate } }
    }`, {}, a.sk);
    expect(mine.body.data).toEqual({
      overview: { totalRevenue: 16860, totalOrders: 2, refundAmount: 15050 },
      // u-a bought 15050.00 with "mine", then 1810.00 with no channel within 24 hours: credited to "mine" too.
      revenueByChannel: { channels: [{ campaign: "mine", revenue: 16860, conversionRate: 100 }] },
      // "shared" is linked to u-b only in the other appspace, so here the view and the add are two people.
      funnel: { steps: [{ count: 1 }, { count: 0 }, { count: 0 }, { count: 0 }, { count: 0 }, { count: 0 }] },
      topProducts: { products: [{ itemId: "sku-000", revenue: 200, product: { name: "Product 0" } }] },
    });
    const theirs = await h.gql(`{ overview { totalRevenue totalOrders refundAmount } topProducts { products { itemId revenue product { name } } } }`, {}, b.sk);
    expect(theirs.body.data).toEqual({
      overview: { totalRevenue: 999, totalOrders: 1, refundAmount: 0 },
      topProducts: { products: [{ itemId: "sku-000", revenue: 999, product: { name: "Secret" } }] },
    });
  });

  it("topProducts(limit: 100) with catalog details runs as many statements as limit: 1", async () => {
    const statementsFor = async (limit: number) => {
      h.sql.reset();
      const res = await h.gql(TOP_PRODUCTS_WITH_DETAILS, { limit }, a.sk);
      expect(res.body.data!.topProducts.products).toHaveLength(limit);
      return { res, statements: [...h.sql.statements] };
    };
    const one = await statementsFor(1);
    const hundred = await statementsFor(100);
    expect(hundred.statements.length).toBe(one.statements.length);
    // One of them reads the catalog, for all 100 items at once.
    expect(hundred.statements.filter(s => /FROM [`"]?products[`"]? [`"]?Product/i.test(s))).toHaveLength(1);
    const products = hundred.res.body.data!.topProducts.products;
    expect(products[0]).toEqual({ itemId: "sku-000", revenue: 200, product: { itemId: "sku-000", name: "Product 0" } });
    expect(products[99]).toEqual({ itemId: "sku-099", revenue: 101, product: { itemId: "sku-099", name: "Product 99" } });
  });
});

const OVERVIEW = /* GraphQL */ `query ($range: DateRange) { overview(range: $range) { days start end totalRevenue } }`;
const TOP_PRODUCTS = /* GraphQL */ `query ($limit: Int) { topProducts(limit: $limit) { days } }`;
const TOP_PRODUCTS_WITH_DETAILS = /* GraphQL */ `
  query ($limit: Int) { topProducts(limit: $limit) { products { itemId revenue product { itemId name } } } }
`;
const BREAKDOWN = /* GraphQL */ `
  query ($by: [BreakdownDimension!]!, $limit: Int) { revenueBreakdown(by: $by, limit: $limit) { days } }
`;
