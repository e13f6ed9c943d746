import { dbTargets } from "./helpers/databases";
import { TRACK_EVENT, TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

describe.each(dbTargets())("the write path on $name", target => {
  let h: Harness;
  let pk: string;

  beforeAll(async () => {
    h = await startHarness(target);
    ({ publishableKey: pk } = await h.appspace());
  });
  afterAll(() => h.close());

  it("stores a batch of 100 events with 3 items each in a handful of statements", async () => {
    // Warm-up: reserves a block of event ids and fills the rates cache.
    await h.gql(TRACK_EVENTS, { events: [{ eventType: "VIEW_CART" }] }, pk);
    const events = Array.from({ length: 100 }, (_, i) => ({
      eventType: i % 4 === 0 ? "PURCHASE" : "ADD_TO_CART",
      eventId: `w-${i}`,
      transactionId: `order-${i}`,
      revenue: 30,
      userId: `user-${i % 10}`,
      anonymousId: `anon-${i % 10}`,
      properties: [{ key: "campaign", value: "c" }, { key: "source", value: "s" }],
      items: [1, 2, 3].map(n => ({ itemId: `sku-${(i + n) % 17}`, itemName: `Item ${n}`, price: 10, quantity: 1 })),
    }));
    h.sql.reset();
    const res = await h.gql(TRACK_EVENTS, { events }, pk);
    expect(res.body.data).toEqual({ trackEvents: { ok: true, accepted: 100, errors: [] } });
    // On MySQL the writes whose results are not read go in one query of several statements.
    const sent = h.sql.statements.map(q => q.split(";\n"));
    const verbs = sent.flat().map(s => s.replace(/\s+/g, " ").trim().split(" ").slice(0, 3).join(" "));
    expect(verbs).toEqual([
      "SELECT k.id AS", // the API key
      "SELECT COALESCE(SUM(n), 0)", // events taken this month, for the quota
      // On MySQL, at READ COMMITTED (reads take no gap locks, which other transactions' inserts would wait for), and
      // as the events link identities, the appspace's identity lock first (merges run one at a time). SQLite writes one
      // transaction at a time.
      ...(target.name === "sqlite" ? [] : ["SET TRANSACTION ISOLATION", "INSERT INTO identity_locks"]),
      "INSERT INTO orders", // 25 purchases lock and claim their orders
      // Which orders are ours: MySQL says so when none was there before ("Duplicates: 0").
      ...(target.name === "sqlite" ? ["SELECT o.transaction_id, o.purchase_row_id,"] : []),
      "INSERT INTO events", // 100 rows
      "SELECT id FROM", // which eventIds were new
      // Refunds sent before these purchases, which take their flags: none can be where MySQL said every order is new.
      ...(target.name === "sqlite" ? ["SELECT e.id, e.event_type,"] : []),
      "SELECT DISTINCT DATE_FORMAT(e.occurred_at,", // the days of these orders' refunds, whose amounts may change
      "SELECT identifier AS", // whom the identifiers to link belong to, and which are userIds (a storefront may not join two)
      "INSERT INTO identity_links", // 10 links
      "SELECT identifier, person", // the people those links touch
      "INSERT INTO identity_persons", // 20 identifiers, 10 people
      // The days of the events (and of their orders' refunds) of the anonymousIds that now count for a userId.
      target.name === "sqlite" ? "SELECT substr(e.occurred_at, 1," : "(SELECT DATE_FORMAT(e.occurred_at, '%Y-%m-%d')", // a locking read on MySQL
      "INSERT INTO rollup_dirty", // the rollups of the purchases' day are stale
      "INSERT INTO event_items", // 300 rows
      "INSERT INTO event_properties", // 200 rows
      "INSERT INTO products", // 17 products, locked from here to the commit (the fewer statements, the less concurrent batches wait)
      "INSERT INTO ingestion_stats", // today's outcomes
    ].map(v => (target.name === "sqlite" ? v.replace("DATE_FORMAT(e.occurred_at,", "substr(e.occurred_at,") : v)));
    // The last five in one round trip on MySQL.
    expect(sent.map(q => q.length)).toEqual([...Array(verbs.length - 5).fill(1), ...(target.name === "sqlite" ? [1, 1, 1, 1, 1] : [5])]);
    expect(await h.count("events", "event_id LIKE 'w-%'")).toBe(100);
    expect(await h.count("event_items")).toBe(300);
    expect(await h.count("event_properties")).toBe(200);
    expect(await h.count("identity_links")).toBe(10);
    expect(await h.count("identity_persons")).toBe(20);
    expect(await h.count("products")).toBe(17);
  });

  it("tells whether a lone PURCHASE took its order from the order's own statement on MySQL", async () => {
    const purchase = { eventType: "PURCHASE", transactionId: "lone-1", revenue: 5 };
    const claimReads = async (event: object) => {
      h.sql.reset();
      expect((await h.gql(TRACK_EVENT, { event }, pk)).body.data).toEqual({ trackEvent: { ok: true } });
      return h.sql.statements.filter(q => q.startsWith("SELECT o.transaction_id, o.purchase_row_id")).length;
    };
    // New, then held (a duplicate), then new beside a refund that came first: read back on SQLite only.
    expect(await claimReads(purchase)).toBe(target.name === "sqlite" ? 1 : 0);
    expect(await claimReads({ ...purchase, revenue: 6 })).toBe(target.name === "sqlite" ? 1 : 0);
    await h.gql(TRACK_EVENT, { event: { eventType: "REFUND", transactionId: "lone-2", revenue: 1 } }, pk);
    expect(await claimReads({ ...purchase, transactionId: "lone-2", revenue: 7 })).toBe(target.name === "sqlite" ? 1 : 0);
    const stored = await h.db.query("SELECT transaction_id, revenue FROM events WHERE transaction_id LIKE 'lone-%' AND event_type = 'PURCHASE' ORDER BY id");
    expect(stored.map((r: { transaction_id: string; revenue: unknown }) => [r.transaction_id, Number(r.revenue)])).toEqual([["lone-1", 500], ["lone-2", 700]]);
  });
});
