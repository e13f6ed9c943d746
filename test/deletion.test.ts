import { createHash, createHmac, randomBytes } from "node:crypto";
import { personHash } from "../src/rollups/people-sets";
import { refreshRollups } from "../src/read-models";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";
import { at, EVENTS, item, NOW } from "./helpers/report-fixture";

// Xavier, on top of the report fixture: seen as x-anon-9f, then as xavier-9f, who names x-old-9f (the anonymous id of
// another device of his) as an alias. His order's refund comes from the back office, with the transactionId only.
const XAVIER = ["x-anon-9f", "x-old-9f", "xavier-9f"];
const XAVIER_EVENTS = [
  {
    eventType: "VIEW_ITEM", anonymousId: "x-anon-9f", timestamp: at("03", "08:00"),
    properties: [{ key: "campaign", value: "xmas" }, { key: "source", value: "tv" }], items: [item("sku-a", 30, 1, { itemName: "Alpha Tee v2", itemBrand: "Acme" })],
  },
  {
    eventType: "PURCHASE", userId: "xavier-9f", anonymousId: "x-anon-9f", aliases: ["x-old-9f"], transactionId: "x-1", revenue: 70,
    couponCode: "SAVE10", discount: 7, timestamp: at("03", "09:00"), context: { country: "FR", deviceType: "tablet", platform: "android" },
    properties: [{ key: "campaign", value: "xmas" }, { key: "source", value: "tv" }],
    items: [item("sku-a", 30), item("sku-x", 40, 1, { itemName: "X only", itemCategory: "secret", merchantId: "m-x" })],
  },
  { eventType: "REFUND", transactionId: "x-1", revenue: 10, timestamp: at("04", "09:00") },
  { eventType: "ADD_TO_CART", anonymousId: "x-old-9f", timestamp: at("05", "09:00"), items: [item("sku-b", 40)] },
  { eventType: "SEARCH", userId: "xavier-9f", timestamp: at("06", "09:00"), properties: [{ key: "search_term", value: "tee" }] },
];

const AUDIT_SECRET = randomBytes(32);

describe.each(dbTargets())("GDPR deletion on $name", target => {
  let h: Harness;
  let withXavier: { pk: string; sk: string; appspaceId: number };
  let never: { pk: string; sk: string; appspaceId: number };

  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW, { auditSecret: AUDIT_SECRET });
    const spaces = [];
    for (const events of [[...EVENTS, ...XAVIER_EVENTS], EVENTS]) {
      const created = await h.appspace({ currency: "EUR" });
      const res = await h.gql(TRACK_EVENTS, { events }, created.publishableKey);
      expect(res.body.data!.trackEvents.errors).toEqual([]);
      spaces.push({ pk: created.publishableKey, sk: created.secretKey, appspaceId: created.appspaceId });
    }
    [withXavier, never] = spaces;
  });
  afterAll(() => h.close());

  /** Every row of every table that mentions one of Xavier's identifiers. */
  const traces = async () => {
    const tables: { name: string }[] = await h.db.query(
      target.name === "sqlite"
        ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()",
    );
    expect(tables.length).toBeGreaterThanOrEqual(12);
    const found: string[] = [];
    for (const { name } of tables) {
      for (const row of await h.db.query(`SELECT * FROM ${name}`)) {
        const text = JSON.stringify(row);
        if (XAVIER.some(id => text.includes(id))) found.push(name);
      }
    }
    return [...new Set(found)].sort();
  };

  const reports = async (key: string) => {
    const res = await h.gql(ALL_REPORTS, {}, key);
    expect(res.body.errors).toBeUndefined();
    return res.body.data;
  };

  it("a dry run counts what would go and deletes nothing", async () => {
    const res = await h.gql(DELETE_USER, { userId: "xavier-9f", dryRun: true }, withXavier.sk);
    expect(res.body.data!.deleteUser).toEqual({
      id: "dry-run", ok: true, deletedUserId: "xavier-9f", status: "DONE", dryRun: true, eventsDeleted: 5, identifiersDeleted: 3,
      requestedAt: NOW.toISOString(), completedAt: NOW.toISOString(), reason: null,
    });
    expect(await traces()).toEqual(["events", "identity_links", "identity_persons"]);
  });

  it("deletes the person everywhere, and every report then equals the reports of a dataset that never had them", async () => {
    expect(await reports(withXavier.sk)).not.toEqual(await reports(never.sk));
    // The rollups number Xavier among the people their sets hold.
    await refreshRollups(h.db, { waitSeconds: 10 });
    const numbered = async () => (await h.db.query("SELECT person_hash FROM rollup_people")).filter((r: { person_hash: Buffer }) =>
      XAVIER.some(id => personHash(id).equals(Buffer.from(r.person_hash)))).length;
    expect(await numbered()).toBe(1);

    const requested = await h.gql(DELETE_USER, { userId: "xavier-9f" }, withXavier.sk);
    const request = requested.body.data!.deleteUser;
    expect(request).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/), ok: true, deletedUserId: "xavier-9f", status: "PENDING", dryRun: false,
      eventsDeleted: 0, identifiersDeleted: 0, requestedAt: NOW.toISOString(), completedAt: null, reason: null,
    });

    const done = await waitFor(async () => {
      const res = await h.gql(USER_DELETION, { id: request.id }, withXavier.sk);
      const d = res.body.data!.userDeletion;
      return d.status === "DONE" ? d : null;
    });
    expect(done).toEqual({
      ...request, status: "DONE", eventsDeleted: 5, identifiersDeleted: 3, completedAt: NOW.toISOString(),
      deletedUserId: `hmac-sha256:${createHmac("sha256", AUDIT_SECRET).update(`${withXavier.appspaceId}:xavier-9f`).digest("hex")}`,
    });
    // Not the bare SHA-256 a dictionary of userIds would reverse.
    expect(done.deletedUserId).not.toContain(createHash("sha256").update(`${withXavier.appspaceId}:xavier-9f`).digest("hex"));
    expect(await traces()).toEqual([]);
    expect(await numbered()).toBe(0);
    expect(await reports(withXavier.sk)).toEqual(await reports(never.sk));
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await numbered()).toBe(0);
    expect(await reports(withXavier.sk)).toEqual(await reports(never.sk));

    // Another appspace cannot see the request.
    expect((await h.gql(USER_DELETION, { id: request.id }, never.sk)).body.data).toEqual({ userDeletion: null });
  });

  it("asking again for a deleted person is harmless", async () => {
    const before = await reports(withXavier.sk);
    const again = (await h.gql(DELETE_USER, { userId: "xavier-9f" }, withXavier.sk)).body.data!.deleteUser;
    const done = await waitFor(async () => {
      const d = (await h.gql(USER_DELETION, { id: again.id }, withXavier.sk)).body.data!.userDeletion;
      return d.status === "DONE" ? d : null;
    });
    expect(done).toMatchObject({ status: "DONE", eventsDeleted: 0, identifiersDeleted: 0 });
    expect(await reports(withXavier.sk)).toEqual(before);
  });

  it("refuses an empty or oversized userId and a publishable key", async () => {
    for (const userId of ["", "x".repeat(129)]) {
      const res = await h.gql(DELETE_USER, { userId }, withXavier.sk);
      expect(res.body.errors).toEqual([expect.objectContaining({
        message: "userId must be 1 to 128 characters", extensions: { code: "BAD_USER_INPUT", field: "userId" },
      })]);
    }
    const res = await h.gql(DELETE_USER, { userId: "bob" }, withXavier.pk);
    expect(res.status).toBe(403);
    expect(await h.count("deletion_requests", "pending_user_id = 'bob'")).toBe(0);
  });
});

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error("timed out");
    await new Promise(r => setTimeout(r, 50));
  }
}

const DELETION_FIELDS = "id ok deletedUserId status dryRun eventsDeleted identifiersDeleted requestedAt completedAt reason";
const DELETE_USER = /* GraphQL */ `
  mutation ($userId: String!, $dryRun: Boolean) { deleteUser(userId: $userId, dryRun: $dryRun) { ${DELETION_FIELDS} } }
`;
const USER_DELETION = /* GraphQL */ `query ($id: ID!) { userDeletion(id: $id) { ${DELETION_FIELDS} } }`;

const RANGE = `range: { start: "2026-03-01", end: "2026-03-10" }`;
const CHANNEL = "campaign source medium revenue orders pctOfTotal";
const ALL_REPORTS = /* GraphQL */ `{
  overview(${RANGE}) { totalRevenue netRevenue totalOrders totalRefunds refundAmount avgOrderValue totalItemsSold cartAbandonmentRate addToCartRate }
  revenueTimeseries(${RANGE}) { series { date revenue orders } }
  funnel(${RANGE}) { steps { name count percentage } }
  topProducts(${RANGE}, limit: 100) { products { itemId itemName revenue quantity orders product { itemId name category brand variant groupId imageUrl lastSeenAt } } }
  revenueByChannel(${RANGE}) { channels { campaign source medium revenue orders conversionRate } }
  revenueByCoupon(${RANGE}) { coupons { couponCode revenue orders avgDiscount } }
  revenueByDevice(${RANGE}) { devices { deviceType revenue orders } }
  revenueByPlatform(${RANGE}) { platforms { platform revenue orders } }
  revenueByCountry(${RANGE}) { countries { country revenue orders } }
  cartAbandonment(${RANGE}) { abandonmentRate abandonedCarts abandonedRevenue completedCarts }
  orders: revenueBreakdown(${RANGE}, by: [CAMPAIGN, SOURCE, MEDIUM, COUPON, DEVICE, PLATFORM, COUNTRY]) { rows { campaign source medium couponCode deviceType platform country revenue orders items } }
  lines: revenueBreakdown(${RANGE}, by: [CATEGORY, BRAND, MERCHANT]) { rows { category brand merchantId revenue orders items } }
  last: attribution(${RANGE}, model: LAST_CLICK, window: 90) { attributed { ${CHANNEL} } unattributed { revenue orders } }
  linear: attribution(${RANGE}, model: LINEAR, window: 90) { attributed { ${CHANNEL} } unattributed { revenue orders } }
  decay: attribution(${RANGE}, model: TIME_DECAY, window: 90) { attributed { ${CHANNEL} } unattributed { revenue orders } }
  cohorts(months: 24) { avgLtv totalPurchasingUsers cohorts { month users revenueByMonth { monthOffset revenue } } }
}`;
