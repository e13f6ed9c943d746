import fs from "node:fs";
import path from "node:path";
import { dbTargetsAndReads } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, settleReads, startHarness } from "./helpers/harness";
import { NOW } from "./helpers/report-fixture";

const t = (date: string, time = "12:00") => `${date}T${time}:00Z`;
const channel = (campaign: string | null, source: string, medium: string) =>
  [...(campaign ? [{ key: "campaign", value: campaign }] : []), { key: "source", value: source }, { key: "medium", value: medium }];

/*
 * Attribution (EUR, range 2026-03-01..03-10, purchases 100 + 50 + 30 = 180.00):
 *   paula buys 100.00 on 03-08 12:00. Her touchpoints: winter/newsletter/email on 02-01 (35 days before: outside 30,
 *   inside 60), -/google/cpc on 02-22 (14 days) as the anonymous device-p, linked to her only as an alias, and
 *   spring/facebook/social on 03-01 (exactly 7 days).
 *   quinn buys 50.00 on 03-05 10:00, one touchpoint -/google/cpc an hour before. rex buys 30.00 with no touchpoint.
 *   LAST_CLICK, 30 days: spring 100 (1 order), google 50 (1); unattributed 30 (1).
 *   LINEAR, 30 days: google 50 + 50 = 100 (1.5), spring 50 (0.5).
 *   TIME_DECAY, 30 days: weights 2^(-14/7) = 1/4 and 2^(-7/7) = 1/2, so 1/3 and 2/3 of paula's 100.00:
 *     google 33.33 + 50 = 83.33 (1.333, 46.3 %), spring 66.67 (0.667, 37.0 %).
 *   LINEAR, 60 days: thirds of paula's order: google 33.33 + 50 = 83.33 (1.333), spring 33.33 (0.333), winter 33.33 (0.333).
 *   LINEAR, 7 days: only spring for paula (100) and google for quinn (50).
 */
const ATTRIBUTION_EVENTS = [
  { eventType: "VIEW_ITEM", userId: "paula", timestamp: t("2026-02-01"), properties: channel("winter", "newsletter", "email"), items: [{ itemId: "sku-1" }] },
  { eventType: "VIEW_ITEM", anonymousId: "device-p", timestamp: t("2026-02-22"), properties: channel(null, "google", "cpc"), items: [{ itemId: "sku-1" }] },
  { eventType: "VIEW_ITEM", userId: "paula", timestamp: t("2026-03-01"), properties: channel("spring", "facebook", "social"), items: [{ itemId: "sku-1" }] },
  { eventType: "VIEW_CART", userId: "paula", aliases: ["device-p"], timestamp: t("2026-03-02") },
  { eventType: "PURCHASE", userId: "paula", transactionId: "p-1", revenue: 100, timestamp: t("2026-03-08") },
  { eventType: "VIEW_ITEM", userId: "quinn", timestamp: t("2026-03-05", "09:00"), properties: channel(null, "google", "cpc"), items: [{ itemId: "sku-1" }] },
  { eventType: "PURCHASE", userId: "quinn", transactionId: "q-1", revenue: 50, timestamp: t("2026-03-05", "10:00") },
  { eventType: "PURCHASE", userId: "rex", transactionId: "r-1", revenue: 30, timestamp: t("2026-03-06") },
];

/*
 * Cohorts (EUR, today 2026-03-10, months: 5):
 *   ann: 2025-11-15 40.00, 2025-12-20 20.00 (order c-ann-2), 2026-01-10 10.00; a REFUND of c-ann-2 on 2026-01-12, sent
 *        without a userId, of 5.00 -> cohort 2025-11: [40, 20, 10 - 5 = 5, 0, 0]
 *   ben: 2025-12-05 30.00 as the anonymous anon-ben, 2026-02-01 15.00 as ben (linking anon-ben), cancelled 2026-02-03
 *        without revenue (takes the 15.00) -> cohort 2025-12: [30, 0, 0, 0]
 *   cat: 2026-01-31 23:30 25.00, 2026-03-01 10.00 -> cohort 2026-01: [25, 0, 10];  dan: 2026-03-02 60.00 -> 2026-03: [60]
 *   eve: 2025-06-01 100.00 and 2026-01-05 20.00: cohort 2025-06, older than the five shown.
 *   2026-02 has nobody: [0, 0]. Everyone: 5 people, 65 + 30 + 35 + 60 + 120 = 310.00 net -> avgLtv 62.00.
 */
const COHORT_EVENTS = [
  { eventType: "PURCHASE", userId: "ann", transactionId: "c-ann-1", revenue: 40, timestamp: t("2025-11-15") },
  { eventType: "PURCHASE", userId: "ann", transactionId: "c-ann-2", revenue: 20, timestamp: t("2025-12-20") },
  { eventType: "PURCHASE", userId: "ann", transactionId: "c-ann-3", revenue: 10, timestamp: t("2026-01-10") },
  { eventType: "REFUND", transactionId: "c-ann-2", revenue: 5, timestamp: t("2026-01-12") },
  { eventType: "PURCHASE", anonymousId: "anon-ben", transactionId: "c-ben-1", revenue: 30, timestamp: t("2025-12-05") },
  { eventType: "PURCHASE", userId: "ben", anonymousId: "anon-ben", transactionId: "c-ben-2", revenue: 15, timestamp: t("2026-02-01") },
  { eventType: "CANCEL", userId: "ben", transactionId: "c-ben-2", timestamp: t("2026-02-03") },
  { eventType: "PURCHASE", userId: "cat", transactionId: "c-cat-1", revenue: 25, timestamp: t("2026-01-31", "23:30") },
  { eventType: "PURCHASE", userId: "cat", transactionId: "c-cat-2", revenue: 10, timestamp: t("2026-03-01") },
  { eventType: "PURCHASE", userId: "dan", transactionId: "c-dan-1", revenue: 60, timestamp: t("2026-03-02") },
  { eventType: "PURCHASE", userId: "eve", transactionId: "c-eve-1", revenue: 100, timestamp: t("2025-06-01") },
  { eventType: "PURCHASE", userId: "eve", transactionId: "c-eve-2", revenue: 20, timestamp: t("2026-01-05") },
];

// Journey: jules was seen as the anonymous j-anon and, before that, under an old userId j-old (an alias): joining two
// userIds takes the secret key, so the shop's server sends these.
const JOURNEY_EVENTS = [
  { eventType: "VIEW_ITEM", anonymousId: "j-anon", timestamp: t("2026-03-01", "10:00"), items: [{ itemId: "sku-1", itemName: "Mug", price: 10 }] },
  { eventType: "SEARCH", userId: "j-old", timestamp: t("2026-03-01", "11:00"), properties: [{ key: "search_term", value: "mug" }] },
  { eventType: "ADD_TO_CART", userId: "jules", anonymousId: "j-anon", timestamp: t("2026-03-02"), items: [{ itemId: "sku-1", price: 10, quantity: 2 }] },
  {
    eventType: "PURCHASE", userId: "jules", aliases: ["j-old"], transactionId: "j-1", revenue: 20, timestamp: t("2026-03-03"),
    items: [{ itemId: "sku-1", price: 10, quantity: 2 }, { itemId: "sku-2", itemName: "Spoon", price: 0 }],
  },
  { eventType: "VIEW_ITEM", userId: "kim", timestamp: t("2026-03-02"), items: [{ itemId: "sku-1" }] },
];

describe.each(dbTargetsAndReads())("people on $name from $reads", target => {
  let h: Harness;
  const keys: Record<string, { pk: string; sk: string }> = {};

  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
    for (const [name, events] of Object.entries({ attribution: ATTRIBUTION_EVENTS, cohorts: COHORT_EVENTS, journey: JOURNEY_EVENTS })) {
      const created = await h.appspace({ name, currency: "EUR" });
      keys[name] = { pk: created.publishableKey, sk: created.secretKey };
      const res = await h.gql(TRACK_EVENTS, { events }, name === "journey" ? created.secretKey : created.publishableKey);
      expect(res.body.data).toEqual({ trackEvents: { ok: true, accepted: events.length, errors: [] } });
    }
    await settleReads(h, target.reads);
  });
  afterAll(() => h.close());

  const ask = async (space: string, query: string, variables: Record<string, unknown> = {}) => {
    const res = await h.gql(query, variables, keys[space].sk);
    expect(res.body.errors).toBeUndefined();
    return res.body.data!;
  };

  describe("attribution", () => {
    const march = { start: "2026-03-01", end: "2026-03-10" };
    const row = (campaign: string | null, source: string, medium: string, revenue: number, orders: number, pctOfTotal: number) =>
      ({ campaign, source, medium, revenue, orders, pctOfTotal });

    it.each([
      ["LAST_CLICK", 30, [row("spring", "facebook", "social", 100, 1, 55.6), row(null, "google", "cpc", 50, 1, 27.8)]],
      ["LINEAR", 30, [row(null, "google", "cpc", 100, 1.5, 55.6), row("spring", "facebook", "social", 50, 0.5, 27.8)]],
      ["TIME_DECAY", 30, [row(null, "google", "cpc", 83.33, 1.333, 46.3), row("spring", "facebook", "social", 66.67, 0.667, 37)]],
      // A purchase is split in whole cents and thousandths of an order: what is left over goes to the latest of equal shares.
      ["LINEAR", 60, [row(null, "google", "cpc", 83.33, 1.333, 46.3), row("spring", "facebook", "social", 33.34, 0.334, 18.5), row("winter", "newsletter", "email", 33.33, 0.333, 18.5)]],
      ["LINEAR", 7, [row("spring", "facebook", "social", 100, 1, 55.6), row(null, "google", "cpc", 50, 1, 27.8)]],
    ])("%s over %d days", async (model, window, attributed) => {
      const { attribution } = await ask("attribution", ATTRIBUTION, { range: march, model, window });
      expect(attribution).toEqual({ model, windowDays: window, attributed, unattributed: { revenue: 30, orders: 1 } });
      // Credits add up to the purchases exactly: 180.00 in three orders.
      const cents = (attribution.attributed as { revenue: number }[]).reduce((sum, c) => sum + Math.round(c.revenue * 100), 0);
      const orders = (attribution.attributed as { orders: number }[]).reduce((sum, c) => sum + Math.round(c.orders * 1000), 0);
      expect([cents + 3000, orders + 1000]).toEqual([18000, 3000]);
    });

    it("defaults to LAST_CLICK over 30 days and refuses other windows", async () => {
      const { attribution } = await ask("attribution", `query ($range: DateRange) { attribution(range: $range) { model windowDays } }`, { range: march });
      expect(attribution).toEqual({ model: "LAST_CLICK", windowDays: 30 });
      const res = await h.gql(ATTRIBUTION, { range: march, model: "LINEAR", window: 10 }, keys.attribution.sk);
      expect(res.body.errors).toEqual([expect.objectContaining({
        message: "window must be one of 7, 14, 30, 60, 90 (days); got 10", extensions: { code: "BAD_USER_INPUT", field: "window" },
      })]);
    });

    it("answers three models in one request with the database work of one", async () => {
      h.sql.reset();
      await ask("attribution", `query ($range: DateRange) { attribution(range: $range) { windowDays } }`, { range: march });
      const single = h.sql.statements.length;
      h.sql.reset();
      const data = await ask("attribution", `query ($range: DateRange) {
        last: attribution(range: $range, model: LAST_CLICK) { attributed { revenue } }
        linear: attribution(range: $range, model: LINEAR) { attributed { revenue } }
        decay: attribution(range: $range, model: TIME_DECAY, window: 90) { attributed { revenue } }
      }`, { range: march });
      expect(h.sql.statements.length).toBe(single);
      expect(data.last.attributed).toEqual([{ revenue: 100 }, { revenue: 50 }]);
      expect(data.linear.attributed).toEqual([{ revenue: 100 }, { revenue: 50 }]);
      expect(data.decay.attributed).toHaveLength(3);
    });
  });

  describe("cohorts", () => {
    it("groups people by the month of their first purchase, across a year boundary, net of refunds", async () => {
      const { cohorts } = await ask("cohorts", COHORTS, { months: 5 });
      const months = (...revenue: number[]) => revenue.map((r, monthOffset) => ({ monthOffset, revenue: r }));
      expect(cohorts).toEqual({
        cohorts: [
          { month: "2026-03", users: 1, revenueByMonth: months(60) },
          { month: "2026-02", users: 0, revenueByMonth: months(0, 0) },
          { month: "2026-01", users: 1, revenueByMonth: months(25, 0, 10) },
          { month: "2025-12", users: 1, revenueByMonth: months(30, 0, 0, 0) },
          { month: "2025-11", users: 1, revenueByMonth: months(40, 20, 5, 0, 0) },
        ],
        avgLtv: 62,
        totalPurchasingUsers: 5,
      });
      const { cohorts: one } = await ask("cohorts", COHORTS, { months: 1 });
      expect(one.cohorts).toEqual([{ month: "2026-03", users: 1, revenueByMonth: months(60) }]);
    });

    it.each([0, 25])("refuses months: %d", async months => {
      const res = await h.gql(COHORTS, { months }, keys.cohorts.sk);
      expect(res.body.errors).toEqual([expect.objectContaining({
        message: `months must be between 1 and 24; got ${months}`, extensions: { code: "BAD_USER_INPUT", field: "months" },
      })]);
    });
  });

  describe("user journey", () => {
    const expected = {
      identifiers: ["j-anon", "j-old", "jules"],
      events: [
        { eventType: "VIEW_ITEM", timestamp: "2026-03-01T10:00:00.000Z", transactionId: null, revenue: null, items: [{ itemId: "sku-1", itemName: "Mug", price: 10, quantity: 1, product: { name: "Mug" } }] },
        { eventType: "SEARCH", timestamp: "2026-03-01T11:00:00.000Z", transactionId: null, revenue: null, items: [] },
        { eventType: "ADD_TO_CART", timestamp: "2026-03-02T12:00:00.000Z", transactionId: null, revenue: null, items: [{ itemId: "sku-1", itemName: null, price: 10, quantity: 2, product: { name: "Mug" } }] },
        {
          eventType: "PURCHASE", timestamp: "2026-03-03T12:00:00.000Z", transactionId: "j-1", revenue: 20,
          items: [{ itemId: "sku-1", itemName: null, price: 10, quantity: 2, product: { name: "Mug" } }, { itemId: "sku-2", itemName: "Spoon", price: 0, quantity: 1, product: { name: "Spoon" } }],
        },
      ],
    };

    it("follows every identifier linked to the person, oldest first, with items", async () => {
      for (const userId of ["jules", "j-anon", "j-old"]) {
        const { userJourney } = await ask("journey", JOURNEY, { userId });
        expect(userJourney).toEqual({ userId, ...expected });
      }
      const { userJourney: nobody } = await ask("journey", JOURNEY, { userId: "nobody" });
      expect(nobody).toEqual({ userId: "nobody", identifiers: ["nobody"], events: [] });
      const { userJourney: newest } = await ask("journey", JOURNEY, { userId: "jules", limit: 2 });
      expect(newest.events.map((e: { eventType: string }) => e.eventType)).toEqual(["ADD_TO_CART", "PURCHASE"]);
    });

    it("loads the items of every event in one statement", async () => {
      h.sql.reset();
      await ask("journey", JOURNEY, { userId: "jules", limit: 1 });
      const one = h.sql.statements.length;
      h.sql.reset();
      const { userJourney } = await ask("journey", JOURNEY, { userId: "jules" });
      expect(userJourney.events).toHaveLength(4);
      expect(h.sql.statements.length).toBe(one);
      expect(h.sql.statements.filter(s => /FROM event_items/.test(s))).toHaveLength(1);
    });
  });

  it.each(documentedExamples())("the %s example of docs/people.md answers as documented", async (space, query, expected) => {
    expect(await ask(space, query)).toEqual(expected);
  });

  it("links are transitive: two people joined by a later link become one, named by the smallest userId", async () => {
    const { publishableKey, secretKey, appspaceId } = await h.appspace({ name: "links", currency: "EUR" });
    const persons = () => h.db.query("SELECT identifier, person FROM identity_persons WHERE appspace_id = ? ORDER BY identifier", [appspaceId]);
    const send = async (events: object[], key = publishableKey) => expect((await h.gql(TRACK_EVENTS, { events }, key)).body.data!.trackEvents.accepted).toBe(events.length);
    await send([
      { eventType: "SEARCH", userId: "zoe", anonymousId: "phone", timestamp: t("2026-03-01") },
      { eventType: "SEARCH", userId: "yan", anonymousId: "laptop", timestamp: t("2026-03-02") },
    ]);
    expect(await persons()).toEqual([
      { identifier: "laptop", person: "yan" }, { identifier: "phone", person: "zoe" }, { identifier: "yan", person: "yan" }, { identifier: "zoe", person: "zoe" },
    ]);
    // Joining two userIds: the shop's server, with the secret key.
    await send([{ eventType: "SEARCH", userId: "zoe", aliases: ["yan"], timestamp: t("2026-03-03") }], secretKey);
    expect(await persons()).toEqual([
      { identifier: "laptop", person: "yan" }, { identifier: "phone", person: "yan" }, { identifier: "yan", person: "yan" }, { identifier: "zoe", person: "yan" },
    ]);
    const res = await h.gql(JOURNEY, { userId: "phone" }, secretKey);
    expect(res.body.data!.userJourney.identifiers).toEqual(["laptop", "phone", "yan", "zoe"]);
    expect(res.body.data!.userJourney.events).toHaveLength(3);
  });
});

const ATTRIBUTION = /* GraphQL */ `
  query ($range: DateRange, $model: AttributionModel, $window: Int) {
    attribution(range: $range, model: $model, window: $window) {
      model windowDays attributed { campaign source medium revenue orders pctOfTotal } unattributed { revenue orders }
    }
  }
`;

const COHORTS = /* GraphQL */ `
  query ($months: Int) { cohorts(months: $months) { avgLtv totalPurchasingUsers cohorts { month users revenueByMonth { monthOffset revenue } } } }
`;

const JOURNEY = /* GraphQL */ `
  query ($userId: String!, $limit: Int) {
    userJourney(userId: $userId, limit: $limit) {
      userId identifiers events { eventType timestamp transactionId revenue items { itemId itemName price quantity product { name } } }
    }
  }
`;

/** The examples of docs/people.md: `<!-- example: fixture -->` then a ```graphql and a ```json block. */
function documentedExamples(): [string, string, unknown][] {
  const people = fs.readFileSync(path.join(__dirname, "..", "docs", "people.md"), "utf8");
  const pairs = [...people.matchAll(/<!-- example: (\w+) -->\n```graphql\n([\s\S]*?)```\n```json\n([\s\S]*?)```/g)];
  expect(pairs.map(p => p[1])).toEqual(["attribution", "cohorts", "journey"]);
  return pairs.map(([, space, query, json]) => [space, query, JSON.parse(json)]);
}
