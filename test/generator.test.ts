import { generate, replay, sessions } from "../src/bench/generate";
import { dbTargets } from "./helpers/databases";
import { Harness, startHarness } from "./helpers/harness";

/*
 * The benchmark's data generator: deterministic, and its two ways in (rows
 * written straight into the tables, and the same sessions replayed through the
 * GraphQL API) store the same events, so reports agree on everything but
 * converted amounts (the generator converts at fixed rates, the server at its own).
 */
const NOW = new Date("2026-03-31T12:00:00Z");
const OPTIONS = { events: 1500, seed: 7, days: 20, end: new Date("2026-03-31T00:00:00Z") };

const REPORT = /* GraphQL */ `query ($range: DateRange) {
  overview(range: $range) { totalOrders totalRefunds totalItemsSold addToCartRate cartAbandonmentRate }
  funnel(range: $range) { steps { name count } }
  revenueByDevice(range: $range) { devices { deviceType orders } }
  revenueByCoupon(range: $range) { coupons { couponCode orders } }
  cartAbandonment(range: $range) { abandonedCarts completedCarts }
}`;

describe.each(dbTargets())("the data generator on $name", target => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
  });
  afterAll(() => h.close());

  it("yields the same sessions for the same seed, and others for another", () => {
    const all = (seed: number) => [...sessions({ ...OPTIONS, seed })].flat();
    expect(all(7)).toEqual(all(7));
    expect(all(8)).not.toEqual(all(7));
    const types = new Set(all(7).map(e => e.type));
    expect([...types].sort()).toEqual(["ADD_PAYMENT_INFO", "ADD_TO_CART", "BEGIN_CHECKOUT", "CANCEL", "PURCHASE", "REFUND", "REMOVE_FROM_CART", "SEARCH", "VIEW_CART", "VIEW_ITEM"]);
  });

  it("stores the same events written directly as replayed through the API", async () => {
    const direct = await h.appspace({ currency: "EUR" });
    const api = await h.appspace({ currency: "EUR" });
    const written = await generate(h.db, direct.appspaceId, OPTIONS);
    const replayed = await replay(h.url, api.secretKey, OPTIONS);
    expect(replayed).toEqual(written);
    expect(written.events).toBeGreaterThanOrEqual(1500);

    for (const appspaceId of [direct.appspaceId, api.appspaceId]) {
      expect(await h.count("events", "appspace_id = ?", [appspaceId])).toBe(written.events);
      expect(await h.count("event_items", "appspace_id = ?", [appspaceId])).toBe(written.items);
    }
    const byType = (appspaceId: number) => h.db.query(
      "SELECT event_type, COUNT(*) AS n, COUNT(user_id) AS users, COUNT(cart_id) AS carts FROM events WHERE appspace_id = ? GROUP BY event_type ORDER BY event_type", [appspaceId]);
    expect(await byType(api.appspaceId)).toEqual(await byType(direct.appspaceId));
    // Products rank by revenue, which the rates change: compare what was bought of each.
    const bought = (appspaceId: number) => h.db.query(
      `SELECT i.item_id, SUM(i.quantity) AS quantity, COUNT(*) AS line_count FROM event_items i JOIN events e ON e.id = i.event_row_id
       WHERE e.appspace_id = ? AND e.event_type = 'PURCHASE' GROUP BY i.item_id ORDER BY i.item_id`, [appspaceId]);
    expect(await bought(api.appspaceId)).toEqual(await bought(direct.appspaceId));
    const links = (appspaceId: number) => h.db.query("SELECT identifier, user_id FROM identity_links WHERE appspace_id = ? ORDER BY identifier", [appspaceId]);
    expect(await links(api.appspaceId)).toEqual(await links(direct.appspaceId));

    const report = async (sk: string) => {
      const res = await h.gql(REPORT, { range: { start: "2026-03-10", end: "2026-03-31" } }, sk);
      expect(res.body.errors).toBeUndefined();
      return res.body.data!;
    };
    const fromApi = await report(api.secretKey);
    expect(fromApi.overview.totalOrders).toBeGreaterThan(10);
    expect(fromApi).toEqual(await report(direct.secretKey));
  });
});
