import { CreatedAppspace } from "../src/appspaces/appspace.service";
import { refreshRollups } from "../src/read-models";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

/*
 * Orders and people through their lifecycle, through the API: every case is read twice, from raw events (the days are stale)
 * and after the refresher rolled the days up, and must answer the same. The server's clock: 2026-03-10 20:00 UTC;
 * appspaces in USD, whose maxOrderValue (100,000) flags a purchase of 150,000.
 */
const NOW = new Date("2026-03-10T20:00:00Z");
const t = (day: string, time = "12:00") => `2026-03-${day}T${time}:00Z`;

const REPORTS = /* GraphQL */ `
  query Reports($flagged: Boolean!) {
    overview(range: { start: "2026-03-01", end: "2026-03-10" }, includeFlagged: $flagged) {
      totalRevenue netRevenue totalOrders totalRefunds refundAmount fulfilledOrders avgHoursToFulfil
    }
    revenueTimeseries(range: { start: "2026-03-01", end: "2026-03-10" }, includeFlagged: $flagged) { series { date revenue orders } }
    revenueByCountry(range: { start: "2026-03-01", end: "2026-03-10" }, includeFlagged: $flagged) { countries { country revenue orders } }
    revenueByChannel(range: { start: "2026-03-01", end: "2026-03-10" }, includeFlagged: $flagged) { channels { campaign source medium revenue orders conversionRate } }
    cohorts(months: 1, includeFlagged: $flagged) { totalPurchasingUsers avgLtv cohorts { month users revenueByMonth { monthOffset revenue } } }
  }
`;
const STATS = "query { ingestionStats(range: { start: \"2026-03-01\", end: \"2026-03-10\" }) { stored flagged duplicates rules { rule flagged } } }";

describe.each(dbTargets())("orders and people through their lifecycle on $name", target => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
  });
  afterAll(() => h.close());

  async function shop(events: object[]) {
    const space = await h.appspace({ currency: "USD" });
    for (const batch of events) {
      const res = await h.gql(TRACK_EVENTS, { events: Array.isArray(batch) ? batch : [batch] }, space.publishableKey);
      expect(res.body.errors).toBeUndefined();
    }
    return space;
  }

  /**
   * The reports without and with flagged events. Changed days are read from raw events until the refresher rolls
   * them up: both must answer the same (an appspace with nothing changed is read as it is).
   */
  async function reports(space: CreatedAppspace) {
    const read = async (flagged: boolean) => {
      const res = await h.gql(REPORTS, { flagged }, space.secretKey);
      expect(res.body.errors).toBeUndefined();
      return res.body.data!;
    };
    const both = async () => ({ clean: await read(false), all: await read(true) });
    const stale = () => h.count("rollup_dirty", "appspace_id = ?", [space.appspaceId]);
    if ((await stale()) === 0) return both();
    const raw = await both();
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await stale()).toBe(0);
    expect(await both()).toEqual(raw);
    return raw;
  }

  const stats = async (secretKey: string) => {
    const res = await h.gql(STATS, {}, secretKey);
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.ingestionStats;
  };

  describe("a refund or cancel follows its order's flag", () => {
    const clean = { eventType: "PURCHASE", userId: "cleo", transactionId: "ok-1", revenue: 100, timestamp: t("03"), context: { country: "US" } };
    const big = { eventType: "PURCHASE", userId: "hugo", transactionId: "big-1", revenue: 150_000, timestamp: t("04"), context: { country: "DE" } };
    const cancel = { eventType: "CANCEL", transactionId: "big-1", timestamp: t("05") };

    it.each([
      ["sent after its purchase", [clean, big, cancel]],
      ["sent before its purchase", [clean, cancel, big]],
    ])("a flagged order's cancel is left out with it, and counted with it (%s)", async (_, events) => {
      const space = await shop(events);
      const { clean: without, all } = await reports(space);
      expect(without.overview).toMatchObject({ totalRevenue: 100, netRevenue: 100, totalOrders: 1, totalRefunds: 0, refundAmount: 0 });
      expect(without.revenueByCountry.countries).toEqual([{ country: "US", revenue: 100, orders: 1 }]);
      expect(without.cohorts).toMatchObject({ totalPurchasingUsers: 1, avgLtv: 100 });

      // Cancelled whole: the order and its cancel net to zero.
      expect(all.overview).toMatchObject({ totalRevenue: 150_100, netRevenue: 100, totalOrders: 2, totalRefunds: 1, refundAmount: 150_000 });
      expect(all.cohorts).toMatchObject({ totalPurchasingUsers: 2, avgLtv: 50 });
      expect(all.cohorts.cohorts[0].revenueByMonth).toEqual([{ monthOffset: 0, revenue: 100 }]);

      // Both flagged by the purchase's rule, counted on their day of receipt.
      expect(await stats(space.secretKey)).toMatchObject({ stored: 1, flagged: 2, duplicates: 0, rules: [{ rule: "max_order_value", flagged: 2 }] });
      const rows = await h.db.query("SELECT event_type, flags FROM events WHERE appspace_id = ? AND transaction_id = 'big-1' ORDER BY event_type", [space.appspaceId]);
      expect(rows).toEqual([{ event_type: "CANCEL", flags: "max_order_value" }, { event_type: "PURCHASE", flags: "max_order_value" }]);
    });

    it("a refund sent beside a re-sent purchase of its flagged order takes the stored purchase's flags", async () => {
      const space = await shop([big, [{ ...big, revenue: 150_001 }, { eventType: "REFUND", transactionId: "big-1", revenue: 10, timestamp: t("06") }]]);
      const rows = await h.db.query("SELECT event_type, flags FROM events WHERE appspace_id = ? ORDER BY event_type", [space.appspaceId]);
      expect(rows).toEqual([{ event_type: "PURCHASE", flags: "max_order_value" }, { event_type: "REFUND", flags: "max_order_value" }]);
    });

    it("a clean order's refunds are counted, whatever a rule would say of them alone", async () => {
      // Back offices often send refunds from a server whose user agent reads as a bot (flagged here, not blocked).
      const space = await h.appspace({ currency: "USD" });
      await h.db.query("UPDATE appspaces SET settings = ? WHERE id = ?", [JSON.stringify({ severities: { bot: 1 } }), space.appspaceId]);
      const refund = (revenue: number, day: string) => ({ eventType: "REFUND", transactionId: "r-1", revenue, timestamp: t(day), context: { userAgent: "curl/8.5.0" } });
      const send = async (event: object) => expect((await h.gql(TRACK_EVENTS, { events: [event] }, space.publishableKey)).body.errors).toBeUndefined();
      await send(refund(30, "06"));
      expect(await stats(space.secretKey)).toMatchObject({ stored: 0, flagged: 1, rules: [{ rule: "bot", flagged: 1 }] });
      await send({ eventType: "PURCHASE", userId: "rita", transactionId: "r-1", revenue: 100, timestamp: t("05") });
      await send(refund(20, "07"));
      const { clean } = await reports(space);
      expect(clean.overview).toMatchObject({ totalRevenue: 100, netRevenue: 50, totalOrders: 1, totalRefunds: 2, refundAmount: 50 });
      expect(await stats(space.secretKey)).toMatchObject({ stored: 3, flagged: 0 });
    });
  });

  it("flags each refund as its order, when the purchase and its refunds arrive at once", async () => {
    const space = await h.appspace({ currency: "USD" });
    const orders = Array.from({ length: 12 }, (_, i) => `race-${i}`);
    // From the shop's server: 12 purchases at once from one browser would trip the velocity rule.
    const send = (event: object) => h.gql(TRACK_EVENTS, { events: [event] }, space.secretKey);
    await Promise.all(orders.flatMap((order, i) => [
      send({ eventType: "PURCHASE", userId: `p${i}`, transactionId: order, revenue: i % 2 ? 150_000 : 10, timestamp: t("04") }),
      send({ eventType: "REFUND", transactionId: order, revenue: 1, timestamp: t("05") }),
      send({ eventType: "CANCEL", transactionId: order, timestamp: t("06") }),
    ]));
    const rows: { transaction_id: string; event_type: string; flags: string | null }[] = await h.db.query(
      "SELECT transaction_id, event_type, flags FROM events WHERE appspace_id = ? ORDER BY transaction_id, event_type", [space.appspaceId]);
    expect(rows).toHaveLength(36);
    for (const r of rows) expect([r.transaction_id, r.flags]).toEqual([r.transaction_id, Number(r.transaction_id.slice(5)) % 2 ? "max_order_value" : null]);
    expect(await stats(space.secretKey)).toMatchObject({ stored: 18, flagged: 18 });
  });

  describe("fulfilment", () => {
    it("counts orders fulfilled in the range once, and the mean hours from purchase to first fulfilment", async () => {
      const space = await shop([[
        { eventType: "PURCHASE", userId: "fay", transactionId: "f-1", revenue: 10, timestamp: t("02", "10:00"), items: [{ itemId: "a", price: 5, quantity: 2 }] },
        // Two partial fulfilments: the first counts, 24 hours after the purchase.
        { eventType: "FULFILL", transactionId: "f-1", timestamp: t("03", "10:00"), items: [{ itemId: "a", quantity: 1 }] },
        { eventType: "FULFILL", transactionId: "f-1", timestamp: t("04", "10:00"), items: [{ itemId: "a", quantity: 1 }] },
        { eventType: "PURCHASE", userId: "gus", transactionId: "f-2", revenue: 20, timestamp: t("05", "00:00") },
        { eventType: "FULFILL", transactionId: "f-2", timestamp: t("05", "12:00") },
        // A flagged order's fulfilment is left out with it.
        { eventType: "PURCHASE", userId: "hal", transactionId: "f-3", revenue: 150_000, timestamp: t("06", "00:00") },
        { eventType: "FULFILL", transactionId: "f-3", timestamp: t("06", "06:00") },
      ]]);
      const { clean, all } = await reports(space);
      expect(clean.overview).toMatchObject({ totalOrders: 2, fulfilledOrders: 2, avgHoursToFulfil: 18 });
      expect(all.overview).toMatchObject({ totalOrders: 3, fulfilledOrders: 3, avgHoursToFulfil: 14 });
      const missing = await h.gql(TRACK_EVENTS, { events: [{ eventType: "FULFILL" }] }, space.publishableKey);
      expect(missing.body.data!.trackEvents.errors).toEqual([{ index: 0, code: "MISSING_FIELD", message: "events[0]: transactionId is required for FULFILL events" }]);
    });
  });

  describe("an order counts once, whenever it is sent again", () => {
    it("a purchase re-sent days later, alone or in a batch, is a duplicate", async () => {
      const order = { eventType: "PURCHASE", userId: "ivy", transactionId: "again-1", revenue: 40, timestamp: t("02") };
      const space = await shop([order]);
      // As if the first had arrived 200 days ago: a replay of the order history.
      await h.db.query("UPDATE events SET received_at = '2025-08-22 12:00:00.000' WHERE appspace_id = ?", [space.appspaceId]);
      await shop([]);
      for (const batch of [[order], [{ ...order, revenue: 41 }, { ...order, transactionId: "again-2" }]]) {
        expect((await h.gql(TRACK_EVENTS, { events: batch }, space.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: batch.length });
      }
      const { clean } = await reports(space);
      expect(clean.overview).toMatchObject({ totalRevenue: 80, totalOrders: 2 });
      expect(await stats(space.secretKey)).toMatchObject({ duplicates: 2 });
    });
  });

  describe("deletion takes the person's orders whole", () => {
    const alice = [
      { eventType: "VIEW_ITEM", anonymousId: "dev-a", timestamp: t("01"), items: [{ itemId: "mug", price: 80 }] },
      { eventType: "PURCHASE", userId: "alice", anonymousId: "dev-a", transactionId: "a-1", revenue: 80, timestamp: t("02"), items: [{ itemId: "mug", price: 80 }] },
      // The back office sends refunds and fulfilments with the order id only.
      { eventType: "REFUND", transactionId: "a-1", revenue: 50, timestamp: t("03") },
      { eventType: "FULFILL", transactionId: "a-1", timestamp: t("03", "18:00") },
    ];
    const bob = [
      { eventType: "PURCHASE", userId: "bob", anonymousId: "dev-b", transactionId: "b-1", revenue: 30, timestamp: t("04"), items: [{ itemId: "cup", price: 30 }] },
      { eventType: "CANCEL", transactionId: "b-1", revenue: 5, timestamp: t("05") },
    ];

    it("keeps another userId's events that name the person's order", async () => {
      // bob asks about alice's order (a gift): his event is his, not part of her order.
      const asked = { eventType: "VIEW_CART", userId: "bob", transactionId: "a-1", timestamp: t("04") };
      const space = await shop([alice, [asked]]);
      await deleteUser(space.secretKey, "alice", { eventsDeleted: 4, identifiersDeleted: 2 });
      expect(await h.db.query("SELECT user_id, event_type FROM events WHERE appspace_id = ?", [space.appspaceId])).toEqual([{ user_id: "bob", event_type: "VIEW_CART" }]);
    });

    it("every report equals the same data without the person, raw and rolled up", async () => {
      const space = await shop([alice, bob]);
      const twin = await shop([bob]);
      const before = await reports(space);
      expect(before.clean.overview).toMatchObject({ totalRevenue: 110, netRevenue: 55, refundAmount: 55, fulfilledOrders: 1 });
      await deleteUser(space.secretKey, "alice", { eventsDeleted: 4, identifiersDeleted: 2 });
      expect(await h.count("events", "appspace_id = ? AND transaction_id = 'a-1'", [space.appspaceId])).toBe(0);
      expect(await h.count("orders", "appspace_id = ? AND transaction_id = 'a-1'", [space.appspaceId])).toBe(0);
      // The days the deletion changed are read raw first, then rolled up again.
      expect(await h.count("rollup_dirty", "appspace_id = ?", [space.appspaceId])).toBeGreaterThan(0);
      const after = await reports(space);
      expect(after.clean.overview).toMatchObject({ totalRevenue: 30, netRevenue: 25, refundAmount: 5, fulfilledOrders: 0 });
      expect(after).toEqual(await reports(twin));
    });
  });

  describe("identity links a storefront cannot abuse", () => {
    const JOURNEY = "query ($userId: String!) { userJourney(userId: $userId) { identifiers events { eventType transactionId } } }";
    const journey = async (secretKey: string, userId: string) => (await h.gql(JOURNEY, { userId }, secretKey)).body.data!.userJourney;
    const purchases = [
      { eventType: "PURCHASE", userId: "alice", anonymousId: "dev-a", transactionId: "a-1", revenue: 80, timestamp: t("02") },
      { eventType: "PURCHASE", userId: "bob", anonymousId: "dev-b", transactionId: "b-1", revenue: 30, timestamp: t("03") },
    ];
    // One storefront event claims bob's device and bob himself for alice.
    const hostile = { eventType: "SEARCH", userId: "alice", anonymousId: "dev-b", aliases: ["bob"], timestamp: t("04") };

    it("a publishable key never joins two userIds: the event is stored, links nothing, and is counted", async () => {
      const space = await shop([purchases, [hostile]]);
      expect(await h.count("events", "appspace_id = ? AND event_type = 'SEARCH'", [space.appspaceId])).toBe(1);
      expect((await h.gql("query { ingestionStats(range: { days: 1 }) { stored identityConflicts } }", {}, space.secretKey)).body.data!.ingestionStats)
        .toEqual({ stored: 3, identityConflicts: 1 });
      expect((await journey(space.secretKey, "bob")).identifiers).toEqual(["bob", "dev-b"]);
      expect((await journey(space.secretKey, "alice")).identifiers).toEqual(["alice", "dev-a"]);

      await deleteUser(space.secretKey, "alice", { eventsDeleted: 2, identifiersDeleted: 2 });
      expect(await journey(space.secretKey, "bob")).toEqual({ identifiers: ["bob", "dev-b"], events: [{ eventType: "PURCHASE", transactionId: "b-1" }] });
      const { clean } = await reports(space);
      expect(clean.overview).toMatchObject({ totalRevenue: 30, totalOrders: 1 });
    });

    it("a publishable key links new anonymous ids, first come first served within a batch too", async () => {
      const space = await shop([purchases, [
        { eventType: "SEARCH", userId: "alice", aliases: ["dev-a2"], timestamp: t("04") },
        { eventType: "SEARCH", userId: "carl", anonymousId: "dev-c", timestamp: t("04", "13:00") },
        { eventType: "SEARCH", userId: "dave", anonymousId: "dev-c", timestamp: t("04", "14:00") },
        // A userId is no alias, not even one of this batch.
        { eventType: "SEARCH", userId: "erin", aliases: ["carl"], timestamp: t("04", "15:00") },
      ]]);
      expect((await journey(space.secretKey, "alice")).identifiers).toEqual(["alice", "dev-a", "dev-a2"]);
      expect((await journey(space.secretKey, "carl")).identifiers).toEqual(["carl", "dev-c"]);
      expect((await journey(space.secretKey, "dave")).identifiers).toEqual(["dave"]);
      expect((await journey(space.secretKey, "erin")).identifiers).toEqual(["erin"]);
      expect((await h.gql("query { ingestionStats(range: { days: 1 }) { identityConflicts } }", {}, space.secretKey)).body.data!.ingestionStats)
        .toEqual({ identityConflicts: 2 });
    });

    it("an anonymous id a secret key linked to two userIds links again for either, no conflict", async () => {
      const space = await shop([]);
      await h.gql(TRACK_EVENTS, { events: [
        { eventType: "SEARCH", userId: "u1", anonymousId: "dev-s", timestamp: t("02") },
        { eventType: "SEARCH", userId: "u2", anonymousId: "dev-s", timestamp: t("03") },
      ] }, space.secretKey);
      await h.gql(TRACK_EVENTS, { events: [{ eventType: "SEARCH", userId: "u2", anonymousId: "dev-s", timestamp: t("04") }] }, space.publishableKey);
      expect((await h.gql("query { ingestionStats(range: { days: 1 }) { stored identityConflicts } }", {}, space.secretKey)).body.data!.ingestionStats)
        .toEqual({ stored: 3, identityConflicts: 0 });
    });

    it("the secret key joins two userIds; deleting one keeps the other's events, as a person of its own", async () => {
      const space = await shop([purchases]);
      const joined = await h.gql(TRACK_EVENTS, { events: [{ ...hostile, anonymousId: undefined }] }, space.secretKey);
      expect(joined.body.data!.trackEvents).toMatchObject({ accepted: 1, errors: [] });
      expect((await journey(space.secretKey, "bob")).identifiers).toEqual(["alice", "bob", "dev-a", "dev-b"]);
      const together = await reports(space);
      expect(together.clean.cohorts).toMatchObject({ totalPurchasingUsers: 1 });

      await deleteUser(space.secretKey, "alice", { eventsDeleted: 2, identifiersDeleted: 2 });
      expect(await journey(space.secretKey, "bob")).toEqual({ identifiers: ["bob", "dev-b"], events: [{ eventType: "PURCHASE", transactionId: "b-1" }] });
      const persons = await h.db.query("SELECT identifier, person FROM identity_persons WHERE appspace_id = ? ORDER BY identifier", [space.appspaceId]);
      expect(persons).toEqual([{ identifier: "bob", person: "bob" }, { identifier: "dev-b", person: "bob" }]);
      const { clean } = await reports(space);
      expect(clean.cohorts).toMatchObject({ totalPurchasingUsers: 1, avgLtv: 30 });
    });
  });

  describe("channels: a purchase without one is credited to where its person came from", () => {
    const tags = (campaign: string | null, source: string, medium: string) =>
      [...(campaign ? [{ key: "campaign", value: campaign }] : []), { key: "source", value: source }, { key: "medium", value: medium }];
    const SPRING = tags("spring", "news", "email");
    const GOOGLE = tags(null, "google", "cpc");
    const view = (who: object, at: string, properties: object[]) => ({ eventType: "VIEW_ITEM", ...who, timestamp: at, properties, items: [{ itemId: "a" }] });
    const buy = (who: object, order: string, revenue: number, at: string, properties: object[] = []) =>
      ({ eventType: "PURCHASE", ...who, transactionId: order, revenue, timestamp: at, properties });
    const row = (campaign: string | null, source: string | null, medium: string | null, revenue: number, orders: number, conversionRate: number) =>
      ({ campaign, source, medium, revenue, orders, conversionRate });

    it("credits the channel of the latest visit with one of the person or session in the 24 hours before, and converts who arrived through it", async () => {
      const space = await shop([[
        // ann lands anonymously from the newsletter, then buys logged in (linking her device): spring.
        view({ anonymousId: "dev-ann" }, t("03", "10:00"), SPRING),
        buy({ userId: "ann", anonymousId: "dev-ann" }, "c-1", 40, t("03", "12:00")),
        // ben came from Google 25 hours before he bought: too long ago, no channel.
        view({ userId: "ben" }, t("04", "09:00"), GOOGLE),
        buy({ userId: "ben" }, "c-2", 25, t("05", "10:00")),
        // cy's visit late on the 5th credits his purchase early on the 6th.
        view({ userId: "cy" }, t("05", "23:30"), SPRING),
        buy({ userId: "cy" }, "c-3", 60, t("06", "00:30")),
        // dee's purchase carries its own channel; ed only visits.
        buy({ userId: "dee" }, "c-4", 10, t("07"), GOOGLE),
        view({ userId: "ed" }, t("08"), SPRING),
        // fay came from the newsletter on the last day of February and bought on March 1st: credited, but she did not
        // arrive through it in the range, so she is no conversion of it.
        view({ userId: "fay" }, "2026-02-28T20:00:00Z", SPRING),
        buy({ userId: "fay" }, "c-5", 5, t("01", "08:00")),
        // gil's ad click is on a device never linked to him; the purchase carries the same sessionId: google.
        view({ anonymousId: "dev-gil", sessionId: "s-gil" }, t("08", "09:00"), GOOGLE),
        buy({ userId: "gil", sessionId: "s-gil" }, "c-6", 30, t("08", "09:30")),
      ]]);
      const { clean } = await reports(space);
      expect(clean.revenueByChannel.channels).toEqual([
        // people ann, cy, ed; buyers among them ann, cy.
        row("spring", "news", "email", 105, 3, 66.7),
        // people ben, dee, dev-gil; buyers among them dee (gil bought through it, but arrived as dev-gil, never linked to him).
        row(null, "google", "cpc", 40, 2, 33.3),
        // people who had an event without a channel: ann, ben, cy, fay, gil (their purchases); bought without one: ben.
        row(null, null, null, 25, 1, 20),
      ]);

      // A visit sent late (a backfill) credits ben's purchase after all: read raw, then rolled up again.
      await h.gql(TRACK_EVENTS, { events: [view({ userId: "ben" }, t("05", "08:00"), tags("fall", "news", "email"))] }, space.publishableKey);
      const later = await reports(space);
      expect(later.clean.revenueByChannel.channels).toEqual([
        row("spring", "news", "email", 105, 3, 66.7),
        row(null, "google", "cpc", 40, 2, 33.3),
        row("fall", "news", "email", 25, 1, 100),
      ]);
    });
  });

  describe("carts as docs/reports.md defines them", () => {
    const CARTS = "query ($start: Date!, $end: Date!) { cartAbandonment(range: { start: $start, end: $end }) { abandonedCarts completedCarts openCarts abandonedRevenue } }";
    const add = (userId: string, at: string, price = 10) => ({ eventType: "ADD_TO_CART", userId, timestamp: at, items: [{ itemId: "a", price }] });

    /** cartAbandonment over the range, read raw (the days are stale) and again rolled up: both must agree. */
    async function carts(space: CreatedAppspace, ranges: [string, string][]) {
      const read = async () => Promise.all(ranges.map(async ([start, end]) => {
        const res = await h.gql(CARTS, { start: `2026-03-${start}`, end: `2026-03-${end}` }, space.secretKey);
        expect(res.body.errors).toBeUndefined();
        return res.body.data!.cartAbandonment;
      }));
      expect(await h.count("rollup_dirty", "appspace_id = ?", [space.appspaceId])).toBeGreaterThan(0);
      const raw = await read();
      await refreshRollups(h.db, { waitSeconds: 10 });
      expect(await read()).toEqual(raw);
      return raw;
    }

    it("counts a cart added to within cartIdleMinutes of the range's end, or of now, as open", async () => {
      const space = await shop([[
        add("oli", t("10", "19:30")), // 30 minutes before now (20:00): open
        add("pam", t("10", "18:30")), // 90 minutes before now: abandoned
        add("quin", t("05", "10:00")), { eventType: "PURCHASE", userId: "quin", transactionId: "q-1", revenue: 10, timestamp: t("06") },
        add("ray", t("05", "23:30")), // 30 minutes before the 5th ends: open in a range ending then
      ]]);
      const [today, fifth, sixth] = await carts(space, [["01", "10"], ["01", "05"], ["01", "06"]]);
      expect(today).toEqual({ abandonedCarts: 2, completedCarts: 1, openCarts: 1, abandonedRevenue: 20 });
      // quin buys on the 6th, after this range: abandoned in it.
      expect(fifth).toEqual({ abandonedCarts: 1, completedCarts: 0, openCarts: 1, abandonedRevenue: 10 });
      expect(sixth).toEqual({ abandonedCarts: 1, completedCarts: 1, openCarts: 0, abandonedRevenue: 10 });

      // Ten idle minutes make oli's cart abandoned too.
      await h.db.query("UPDATE appspaces SET settings = ? WHERE id = ?", [JSON.stringify({ cartIdleMinutes: 10 }), space.appspaceId]);
      await h.gql(TRACK_EVENTS, { events: [{ eventType: "VIEW_CART", userId: "oli", timestamp: t("10", "19:40") }] }, space.publishableKey);
      const [later] = await carts(space, [["01", "10"]]);
      expect(later).toEqual({ abandonedCarts: 3, completedCarts: 1, openCarts: 0, abandonedRevenue: 30 });
    });

    /** A cart event of `userId` at `at`, with a cartId or (null) without: two units of item "a" at `price`. */
    const move = (eventType: string, userId: string, cartId: string | null, at: string, price = 10) =>
      ({ eventType, userId, ...(cartId ? { cartId } : {}), timestamp: at, items: [{ itemId: "a", price, quantity: 2 }] });
    const buy = (userId: string, id: string, at: string, cartId?: string) => ({ eventType: "PURCHASE", userId, transactionId: id, revenue: 20, timestamp: at, ...(cartId ? { cartId } : {}) });

    /** The same ranges again with one of their days stale (a view marks it), read as clean and stale pieces. */
    async function withStaleDay(space: CreatedAppspace, day: string, ranges: [string, string][]) {
      await h.gql(TRACK_EVENTS, { events: [{ eventType: "VIEW_ITEM", userId: "nobody", timestamp: t(day), items: [{ itemId: "a", price: 1 }] }] }, space.publishableKey);
      return carts(space, ranges);
    }

    it("a purchase without a cartId completes only its person's most recent open cart", async () => {
      const space = await shop([[
        move("ADD_TO_CART", "sue", "c-1", t("02")), move("ADD_TO_CART", "sue", "c-2", t("03")), move("ADD_TO_CART", "sue", null, t("04")),
        buy("sue", "s-1", t("05")), buy("sue", "s-2", t("06")),
        // Another person's cart is never hers, nor is a cart someone else started.
        move("ADD_TO_CART", "ted", "c-3", t("03", "09:00")), move("ADD_TO_CART", "sue", "c-3", t("03", "11:00")),
      ]]);
      const ranges: [string, string][] = [["01", "09"], ["02", "05"], ["04", "06"]];
      const expected = [
        // s-1 completes her cart without id (added to last, on the 4th), s-2 then c-2; c-1 and ted's c-3 are left.
        { abandonedCarts: 2, completedCarts: 2, openCarts: 0, abandonedRevenue: 20 + 40 },
        { abandonedCarts: 3, completedCarts: 1, openCarts: 0, abandonedRevenue: 20 + 20 + 40 },
        // From the 4th, her only cart is the one without id.
        { abandonedCarts: 0, completedCarts: 1, openCarts: 0, abandonedRevenue: 0 },
      ];
      expect(await carts(space, ranges)).toEqual(expected);
      expect(await withStaleDay(space, "04", ranges)).toEqual(expected);
    });

    it("an emptied cart is neither abandoned nor completed, and purchases pass it over", async () => {
      const space = await shop([[
        // tom's newer cart is emptied: his purchase completes the older one.
        move("ADD_TO_CART", "tom", "t-old", t("02")), move("ADD_TO_CART", "tom", "t-new", t("03")), move("REMOVE_FROM_CART", "tom", "t-new", t("03", "12:05")),
        buy("tom", "t-1", t("04")),
        // uma empties her cart without id, then buys; vic empties a cartId's cart, then buys with it.
        move("ADD_TO_CART", "uma", null, t("02")), move("REMOVE_FROM_CART", "uma", null, t("02", "12:05")), buy("uma", "u-1", t("03")),
        move("ADD_TO_CART", "vic", "v-1", t("02")), move("REMOVE_FROM_CART", "vic", "v-1", t("02", "12:05")), buy("vic", "v-o", t("03"), "v-1"),
        // wes removes more than he added, then adds: one unit held, abandoned.
        move("ADD_TO_CART", "wes", null, t("05")), { ...move("REMOVE_FROM_CART", "wes", null, t("05", "12:05")), items: [{ itemId: "a", quantity: 5 }] },
        { ...move("ADD_TO_CART", "wes", null, t("06")), items: [{ itemId: "a", price: 10, quantity: 1 }] },
      ]]);
      const ranges: [string, string][] = [["01", "09"], ["03", "09"]];
      const expected = [{ abandonedCarts: 1, completedCarts: 1, openCarts: 0, abandonedRevenue: 10 }, { abandonedCarts: 1, completedCarts: 0, openCarts: 0, abandonedRevenue: 10 }];
      expect(await carts(space, ranges)).toEqual(expected);
      expect(await withStaleDay(space, "03", ranges)).toEqual(expected);
    });
  });

  async function deleteUser(secretKey: string, userId: string, counts: { eventsDeleted: number; identifiersDeleted: number }) {
    const DELETE = "mutation ($userId: String!) { deleteUser(userId: $userId) { id } }";
    const STATUS = "query ($id: ID!) { userDeletion(id: $id) { status eventsDeleted identifiersDeleted } }";
    const { id } = (await h.gql(DELETE, { userId }, secretKey)).body.data!.deleteUser;
    for (let waited = 0; waited < 15_000; waited += 50) {
      const status = (await h.gql(STATUS, { id }, secretKey)).body.data!.userDeletion;
      if (status.status === "DONE") return expect(status).toEqual({ status: "DONE", ...counts });
      await new Promise(r => setTimeout(r, 50));
    }
    throw new Error(`deletion of ${userId} did not finish`);
  }
});
