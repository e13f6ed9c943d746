import { dbTargetsAndReads } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, settleReads, startHarness } from "./helpers/harness";
import { NOW } from "./helpers/report-fixture";

/*
 * Edge cases, each on days of its own (EUR; 1 USD = 0.8 EUR):
 * 03-02..03-05, refunds never take back more than is left of their order:
 *   o-a 20.00; CANCEL 20.00 (all that is left); a second CANCEL 0; a REFUND of 20 after the cancel 0.
 *   o-b 30 USD = 24.00; REFUND 10 USD = 8.00; a CANCEL sent with 100.00 takes the 16.00 left.
 *   A REFUND of 5.00 for an order never tracked counts as sent.
 *   -> revenue 44.00 in 2 orders (AOV 22.00), 6 refunds taking 20 + 0 + 0 + 8 + 16 + 5 = 49.00, net -5.00.
 * 03-06, a device tie: desktop 15.00 and, under "unknown", 10.00 sent as "unknown" plus 5.00 sent without: desktop first by name.
 * 03-07, a cart bought before anything was added to it: the add afterwards leaves it abandoned (9.00).
 * 03-08 23:59:59.999 and 03-09 00:00:00.000: one purchase on each side of midnight.
 */
const EVENTS = [
  { eventType: "PURCHASE", userId: "u1", transactionId: "o-a", revenue: 20, timestamp: "2026-03-02T10:00:00Z" },
  { eventType: "CANCEL", transactionId: "o-a", timestamp: "2026-03-03T10:00:00Z" },
  { eventType: "CANCEL", transactionId: "o-a", timestamp: "2026-03-04T10:00:00Z" },
  { eventType: "REFUND", transactionId: "o-a", revenue: 20, timestamp: "2026-03-05T10:00:00Z" },
  { eventType: "PURCHASE", userId: "u2", transactionId: "o-b", revenue: 30, currency: "USD", timestamp: "2026-03-02T11:00:00Z" },
  { eventType: "REFUND", transactionId: "o-b", revenue: 10, currency: "USD", timestamp: "2026-03-03T11:00:00Z" },
  { eventType: "CANCEL", transactionId: "o-b", revenue: 100, timestamp: "2026-03-04T11:00:00Z" },
  { eventType: "REFUND", transactionId: "o-untracked", revenue: 5, timestamp: "2026-03-04T12:00:00Z" },
  { eventType: "PURCHASE", userId: "u3", transactionId: "o-x", revenue: 10, timestamp: "2026-03-06T10:00:00Z", context: { deviceType: "unknown" } },
  { eventType: "PURCHASE", userId: "u3", transactionId: "o-y", revenue: 5, timestamp: "2026-03-06T11:00:00Z" },
  { eventType: "PURCHASE", userId: "u4", transactionId: "o-z", revenue: 15, timestamp: "2026-03-06T12:00:00Z", context: { deviceType: "desktop" } },
  { eventType: "PURCHASE", userId: "u5", cartId: "cart-z", transactionId: "o-cz", revenue: 3, timestamp: "2026-03-07T10:00:00Z" },
  { eventType: "ADD_TO_CART", userId: "u5", cartId: "cart-z", timestamp: "2026-03-07T11:00:00Z", items: [{ itemId: "sku", price: 9 }] },
  { eventType: "PURCHASE", userId: "u6", transactionId: "o-late", revenue: 1, timestamp: "2026-03-08T23:59:59.999Z" },
  { eventType: "PURCHASE", userId: "u6", transactionId: "o-early", revenue: 2, timestamp: "2026-03-09T00:00:00.000Z" },
];

describe.each(dbTargetsAndReads())("report edge cases on $name from $reads", target => {
  let h: Harness;
  let sk: string;

  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
    const created = await h.appspace({ currency: "EUR" });
    sk = created.secretKey;
    expect((await h.gql(TRACK_EVENTS, { events: EVENTS }, created.publishableKey)).body.data!.trackEvents.errors).toEqual([]);
    await settleReads(h, target.reads);
  });
  afterAll(() => h.close());

  const ask = async (query: string, start: string, end: string) => {
    const res = await h.gql(query, { range: { start: `2026-${start}`, end: `2026-${end}` } }, sk);
    expect(res.body.errors).toBeUndefined();
    return res.body.data!;
  };

  it("refunds and cancels take back at most what is left of their order", async () => {
    expect((await ask(OVERVIEW, "03-02", "03-05")).overview).toEqual({
      totalRevenue: 44, netRevenue: -5, totalOrders: 2, totalRefunds: 6, refundAmount: 49, avgOrderValue: 22, totalItemsSold: 0,
    });
    expect((await ask(OVERVIEW, "03-05", "03-05")).overview).toMatchObject({ totalRefunds: 1, refundAmount: 0 });
    expect((await ask(OVERVIEW, "03-04", "03-04")).overview).toMatchObject({ totalRefunds: 3, refundAmount: 21 });
  });

  it("a value sent as \"unknown\" and a missing one are one group, ordered by name among ties", async () => {
    expect((await ask(`query ($range: DateRange) { revenueByDevice(range: $range) { devices { deviceType revenue orders } } }`, "03-06", "03-06")).revenueByDevice)
      .toEqual({ devices: [{ deviceType: "desktop", revenue: 15, orders: 1 }, { deviceType: "unknown", revenue: 15, orders: 2 }] });
  });

  it("a purchase before a cart's first add does not complete it", async () => {
    expect((await ask(`query ($range: DateRange) { cartAbandonment(range: $range) { abandonmentRate abandonedCarts abandonedRevenue completedCarts } }`, "03-07", "03-07")).cartAbandonment)
      .toEqual({ abandonmentRate: 100, abandonedCarts: 1, abandonedRevenue: 9, completedCarts: 0 });
  });

  it("days end at midnight UTC, to the millisecond", async () => {
    expect((await ask(`query ($range: DateRange) { revenueTimeseries(range: $range) { series { date revenue orders } } }`, "03-08", "03-09")).revenueTimeseries)
      .toEqual({ series: [{ date: "2026-03-08", revenue: 1, orders: 1 }, { date: "2026-03-09", revenue: 2, orders: 1 }] });
  });
});

const OVERVIEW = /* GraphQL */ `
  query ($range: DateRange) { overview(range: $range) { totalRevenue netRevenue totalOrders totalRefunds refundAmount avgOrderValue totalItemsSold } }
`;
