import { CreatedAppspace } from "../src/appspaces/appspace.service";
import { oldestKept } from "../src/days";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENT, TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

const item = { itemId: "sku-1", itemName: "T-Shirt", price: 24.99, quantity: 2 };

/** The smallest valid event of each of the 14 types. */
const MINIMAL: Record<string, Record<string, unknown>> = {
  VIEW_ITEM: { items: [{ itemId: "sku-1" }] },
  ADD_TO_CART: { items: [{ itemId: "sku-1" }] },
  REMOVE_FROM_CART: { items: [{ itemId: "sku-1" }] },
  ADD_TO_WISHLIST: { items: [{ itemId: "sku-1" }] },
  VIEW_CART: {},
  ADD_PAYMENT_INFO: {},
  BEGIN_CHECKOUT: {},
  PURCHASE: { transactionId: "min-order", revenue: 10 },
  REFUND: { transactionId: "min-order", revenue: 10 },
  CANCEL: { transactionId: "min-order" },
  SEARCH: {},
  SHARE: {},
  RATE: {},
  SPEND_CREDITS: { revenue: 5 },
};

/** Each required field, removed, with the message the contract's descriptions call for. */
const MISSING: [string, Record<string, unknown>, string][] = [
  ["PURCHASE", { revenue: 10 }, "transactionId is required for PURCHASE events"],
  ["PURCHASE", { transactionId: "o-1" }, "revenue is required for PURCHASE events"],
  ["REFUND", { revenue: 10 }, "transactionId is required for REFUND events"],
  ["REFUND", { transactionId: "o-1" }, "revenue is required for REFUND events"],
  ["CANCEL", {}, "transactionId is required for CANCEL events"],
  ["SPEND_CREDITS", {}, "revenue is required for SPEND_CREDITS events"],
  ["VIEW_ITEM", {}, "items is required for VIEW_ITEM events and must not be empty"],
  ["ADD_TO_CART", { items: [] }, "items is required for ADD_TO_CART events and must not be empty"],
  ["REMOVE_FROM_CART", {}, "items is required for REMOVE_FROM_CART events and must not be empty"],
  ["ADD_TO_WISHLIST", { items: [] }, "items is required for ADD_TO_WISHLIST events and must not be empty"],
];

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Events that pass GraphQL's type checks but break a rule of ours: [event, field, code, message]. */
const INVALID: [Record<string, unknown>, string, string, string][] = [
  [{ eventType: "PURCHASE", transactionId: "o", revenue: -1 }, "revenue", "INVALID_VALUE", "revenue must be >= 0"],
  [{ eventType: "PURCHASE", transactionId: "o", revenue: 1e13 }, "revenue", "INVALID_VALUE", "revenue must be at most 1000000000000"],
  [{ eventType: "PURCHASE", transactionId: "o", revenue: 1, currency: "XYZ" }, "currency", "INVALID_VALUE", 'currency must be an ISO 4217 currency code, got "XYZ"'],
  [{ eventType: "PURCHASE", transactionId: "o", revenue: 1, currency: "CHF" }, "currency", "INVALID_VALUE", "currency CHF has no exchange rate on this server"],
  [{ eventType: "PURCHASE", transactionId: "o", revenue: 1, shipping: -0.01 }, "shipping", "INVALID_VALUE", "shipping must be >= 0"],
  [{ eventType: "PURCHASE", transactionId: "", revenue: 1 }, "transactionId", "INVALID_VALUE", "transactionId must not be empty"],
  [{ eventType: "PURCHASE", transactionId: "x".repeat(129), revenue: 1 }, "transactionId", "TOO_LONG", "transactionId must be at most 128 characters"],
  [{ eventType: "VIEW_ITEM", items: [{ itemId: "a", quantity: 0 }] }, "items[0].quantity", "INVALID_VALUE", "items[0].quantity must be a whole number of at least 1"],
  [{ eventType: "VIEW_ITEM", items: [{ itemId: "a" }, { itemId: "b", price: -5 }] }, "items[1].price", "INVALID_VALUE", "items[1].price must be >= 0"],
  [{ eventType: "VIEW_ITEM", items: [{ itemId: "a", currency: "EURO" }] }, "items[0].currency", "INVALID_VALUE", 'items[0].currency must be an ISO 4217 currency code, got "EURO"'],
  [{ eventType: "VIEW_ITEM", items: [{ itemId: " " }] }, "items[0].itemId", "INVALID_VALUE", "items[0].itemId must not be empty"],
  [{ eventType: "SEARCH", userId: "u", aliases: Array.from({ length: 101 }, (_, i) => `a${i}`) }, "aliases", "TOO_MANY", "aliases: at most 100 are allowed"],
  [{ eventType: "SEARCH", aliases: ["a"] }, "userId", "MISSING_FIELD", "userId is required when aliases are given"],
  [{ eventType: "SEARCH", properties: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: "v" })) }, "properties", "TOO_MANY", "properties: at most 50 are allowed"],
  [{ eventType: "SEARCH", properties: [{ key: "a", value: "1" }, { key: "a", value: "2" }] }, "properties", "INVALID_VALUE", 'properties: key "a" appears more than once'],
  [{ eventType: "SEARCH", properties: [{ key: "campaign", value: "c".repeat(256) }] }, "properties.campaign", "TOO_LONG", "properties.campaign must be at most 255 characters"],
  [{ eventType: "SEARCH", userId: "\ud800x" }, "userId", "INVALID_VALUE", "userId must be valid UTF-8 text"],
  [{ eventType: "SEARCH", context: { country: "ZZ" } }, "context.country", "INVALID_VALUE", 'context.country must be an ISO 3166-1 alpha-2 code, got "ZZ"'],
  [{ eventType: "SEARCH", context: { country: "GBR" } }, "context.country", "TOO_LONG", "context.country must be at most 2 characters"],
  [{ eventType: "SEARCH", context: { ip: "300.1.1.1" } }, "context.ip", "INVALID_VALUE", "context.ip must be an IPv4 or IPv6 address"],
  [{ eventType: "SEARCH", context: { locale: "not a locale" } }, "context.locale", "INVALID_VALUE", 'context.locale must be a BCP 47 language tag such as en-US, got "not a locale"'],
  [{ eventType: "SEARCH", timestamp: new Date(Date.now() + 2 * HOUR).toISOString() }, "timestamp", "INVALID_VALUE", "timestamp must not be more than 1 hour in the future"],
  [{ eventType: "SEARCH", timestamp: new Date(Date.now() - 400 * DAY).toISOString() }, "timestamp", "INVALID_VALUE", `timestamp is older than the appspace's retention of 365 days (it keeps events from ${oldestKept(365, new Date())})`],
];

describe.each(dbTargets())("ingestion on $name", target => {
  let h: Harness;
  let pk: string;
  let appspaceId: number;
  let created: CreatedAppspace;

  beforeAll(async () => {
    h = await startHarness(target);
    created = await h.appspace({ currency: "USD" });
    pk = created.publishableKey;
    appspaceId = created.appspaceId;
  });
  afterAll(() => h.close());

  const events = (where = "1 = 1", params: unknown[] = []) => h.count("events", `appspace_id = ? AND ${where}`, [appspaceId, ...params]);
  const track = (event: Record<string, unknown>) => h.gql(TRACK_EVENT, { event }, pk);
  const batch = (list: Record<string, unknown>[]) => h.gql(TRACK_EVENTS, { events: list }, pk);

  it("accepts every event type with its minimal fields", async () => {
    for (const [eventType, fields] of Object.entries(MINIMAL)) {
      const res = await track({ eventType, ...fields });
      expect({ eventType, status: res.status, body: res.body }).toEqual({ eventType, status: 200, body: { data: { trackEvent: { ok: true } } } });
    }
    const rows: { event_type: string; n: number }[] = await h.db.query(
      "SELECT event_type, COUNT(*) AS n FROM events WHERE appspace_id = ? GROUP BY event_type ORDER BY event_type", [appspaceId]);
    expect(rows.map(r => [r.event_type, Number(r.n)])).toEqual(Object.keys(MINIMAL).sort().map(t => [t, 1]));
  });

  it.each(MISSING)("rejects %s without a required field (%j): %s", async (eventType, fields, message) => {
    const before = await events();
    const res = await track({ eventType, ...fields });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ message, extensions: { code: "BAD_USER_INPUT", field: expect.any(String), reason: "MISSING_FIELD" } }),
    ]);
    expect(await events()).toBe(before);
  });

  it.each(INVALID.map(([event, field, reason, message]) => [field, message, event, reason] as const))("rejects a bad %s: %s", async (field, message, event, reason) => {
    const before = await events();
    const res = await track(event);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT", field, reason } });
    expect(await events()).toBe(before);
  });

  it("rejects values of the wrong GraphQL type before any resolver runs", async () => {
    const before = await events();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ eventType: "BUY" }, /Value "BUY" does not exist in "EventType" enum/],
      [{ eventType: "VIEW_ITEM", items: [{ itemId: "a", quantity: 1.5 }] }, /Int cannot represent non-integer value: 1.5/],
      [{ eventType: "PURCHASE", transactionId: "o", revenue: "12" }, /Float cannot represent non numeric value: "12"/],
      [{ eventType: "SEARCH", timestamp: "yesterday" }, /DateTime must be an ISO-8601 timestamp/],
      [{ eventType: "SEARCH", aliases: ["a", null] }, /non-null/],
    ];
    for (const [event, message] of cases) {
      const res = await track(event);
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      expect(res.body.errors?.[0].message).toMatch(message);
    }
    expect(await events()).toBe(before);
  });

  it("accepts timestamps as ISO-8601 and as epoch seconds or milliseconds, and stores them in UTC", async () => {
    const at = Date.UTC(2026, 10, 1, 12, 30, 15, 250);
    const forms = [new Date(at).toISOString(), "2026-11-01T13:30:15.250+01:00", at, String(at), Math.floor(at / 1000)];
    for (const [i, timestamp] of forms.entries()) {
      expect((await track({ eventType: "SEARCH", eventId: `ts-${i}`, timestamp })).body.data).toEqual({ trackEvent: { ok: true } });
    }
    const rows: { occurred_at: string | Date }[] = await h.db.query(
      "SELECT occurred_at FROM events WHERE appspace_id = ? AND event_id LIKE 'ts-%' ORDER BY event_id", [appspaceId]);
    const iso = rows.map(r => new Date(r.occurred_at instanceof Date ? r.occurred_at : r.occurred_at.replace(" ", "T") + "Z").toISOString());
    expect(iso).toEqual(["2026-11-01T12:30:15.250Z", "2026-11-01T12:30:15.250Z", "2026-11-01T12:30:15.250Z", "2026-11-01T12:30:15.250Z", "2026-11-01T12:30:15.000Z"]);
  });

  it("stores the valid events of a batch and lists the invalid ones", async () => {
    const before = await events();
    const itemsBefore = await h.count("event_items");
    const res = await batch([
      { eventType: "ADD_TO_CART", items: [item], userId: "u-batch" },
      { eventType: "PURCHASE", revenue: 49.99 },
      { eventType: "PURCHASE", transactionId: "batch-1", revenue: 49.98, items: [item, { itemId: "sku-2", price: 0 }] },
      { eventType: "VIEW_ITEM", items: [{ itemId: "a", price: -1 }] },
      { eventType: "SEARCH", context: { country: "XX" } },
    ]);
    expect(res.body).toEqual({
      data: {
        trackEvents: {
          ok: true,
          accepted: 2,
          errors: [
            { index: 1, code: "MISSING_FIELD", message: "events[1]: transactionId is required for PURCHASE events" },
            { index: 3, code: "INVALID_VALUE", message: "events[3]: items[0].price must be >= 0" },
            { index: 4, code: "INVALID_VALUE", message: 'events[4]: context.country must be an ISO 3166-1 alpha-2 code, got "XX"' },
          ],
        },
      },
    });
    expect(await events()).toBe(before + 2);
    expect(await h.count("event_items")).toBe(itemsBefore + 3);
  });

  it("refuses an empty batch and one over 100 events, storing nothing", async () => {
    const before = await events();
    const empty = await batch([]);
    expect(empty.status).toBe(400);
    expect(empty.body.errors?.[0]).toMatchObject({ message: "events array is required and must not be empty", extensions: { code: "BAD_USER_INPUT" } });
    const tooMany = await batch(Array.from({ length: 101 }, () => ({ eventType: "SEARCH" })));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors?.[0]).toMatchObject({ message: "Maximum 100 events per batch", extensions: { code: "BAD_USER_INPUT" } });
    expect(await events()).toBe(before);
  });

  it("takes a full batch of 100 events with 3 items each", async () => {
    const before = await events();
    const list = Array.from({ length: 100 }, (_, i) => ({
      eventType: "ADD_TO_CART", userId: `bulk-${i % 7}`, items: [1, 2, 3].map(n => ({ itemId: `bulk-sku-${n}`, price: n, quantity: n })),
    }));
    expect((await batch(list)).body.data).toEqual({ trackEvents: { ok: true, accepted: 100, errors: [] } });
    expect(await events()).toBe(before + 100);
    expect(await h.count("event_items", "item_id LIKE 'bulk-sku-%'")).toBe(300);
  });

  it("answers 413 to a body over 1 MB and stores nothing", async () => {
    const before = await events();
    const big = { eventType: "SEARCH", properties: [{ key: "q", value: "x".repeat(1000) }] };
    const body = JSON.stringify({ query: TRACK_EVENTS, variables: { events: Array.from({ length: 1100 }, () => big) } });
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const res = await h.post(body, { authorization: `Bearer ${pk}` });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toEqual({ errors: [{ message: "Request body is larger than 1MB", extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
    expect(await events()).toBe(before);
  });

  it("answers 400 to a body that is not JSON", async () => {
    const res = await h.post("{not json", { authorization: `Bearer ${pk}` });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  describe("dedup", () => {
    it("ignores an eventId already stored, across requests and within a batch", async () => {
      const e = { eventType: "VIEW_CART", eventId: "evt-dup-1", userId: "u1" };
      expect((await track(e)).body.data).toEqual({ trackEvent: { ok: true } });
      expect((await track({ ...e, userId: "someone-else" })).body.data).toEqual({ trackEvent: { ok: true } });
      const res = await batch([{ ...e, eventId: "evt-dup-2" }, { ...e, eventId: "evt-dup-2" }, e]);
      expect(res.body.data).toEqual({ trackEvents: { ok: true, accepted: 3, errors: [] } });
      expect(await events("event_id = ?", ["evt-dup-1"])).toBe(1);
      expect(await events("event_id = ?", ["evt-dup-2"])).toBe(1);
      const [first] = await h.db.query("SELECT user_id FROM events WHERE appspace_id = ? AND event_id = 'evt-dup-1'", [appspaceId]);
      expect(first.user_id).toBe("u1");
    });

    it("ignores a PURCHASE whose transactionId is already stored, also within one batch", async () => {
      const p = { eventType: "PURCHASE", transactionId: "order-dup", revenue: 20, items: [{ itemId: "sku-d", price: 10, quantity: 2 }] };
      expect((await track(p)).body.data).toEqual({ trackEvent: { ok: true } });
      expect((await track({ ...p, revenue: 21 })).body.data).toEqual({ trackEvent: { ok: true } });
      const res = await batch([{ ...p, transactionId: "order-dup-b" }, { ...p, transactionId: "order-dup-b" }]);
      expect(res.body.data).toEqual({ trackEvents: { ok: true, accepted: 2, errors: [] } });
      // Several purchases claim in one multi-row statement: a claimed transactionId among new ones is still caught.
      const mixed = await batch([{ ...p, transactionId: "order-dup-c" }, { ...p, revenue: 22 }, { ...p, transactionId: "order-dup-d" }]);
      expect(mixed.body.data).toEqual({ trackEvents: { ok: true, accepted: 3, errors: [] } });
      expect(await events("transaction_id = ?", ["order-dup"])).toBe(1);
      expect(await events("transaction_id = ?", ["order-dup-b"])).toBe(1);
      expect(await events("transaction_id IN (?, ?)", ["order-dup-c", "order-dup-d"])).toBe(2);
      expect(await h.count("event_items", "item_id = 'sku-d'")).toBe(4);
      // Refunds of the order are separate events, not duplicates.
      await track({ eventType: "REFUND", transactionId: "order-dup", revenue: 5 });
      await track({ eventType: "REFUND", transactionId: "order-dup", revenue: 5 });
      expect(await events("transaction_id = ? AND event_type = 'REFUND'", ["order-dup"])).toBe(2);
    });

    it("gives a transactionId back when its PURCHASE is dropped for a repeated eventId", async () => {
      await track({ eventType: "PURCHASE", eventId: "evt-p", transactionId: "order-p1", revenue: 1 });
      // Same eventId, new order: ignored as a repeat, so order-p2 must stay free...
      await batch([{ eventType: "PURCHASE", eventId: "evt-p", transactionId: "order-p2", revenue: 2 }, { eventType: "VIEW_CART", eventId: "evt-q" }, { eventType: "PURCHASE", eventId: "evt-q", transactionId: "order-p3", revenue: 3 }]);
      // ...and so must order-p3, whose event repeated an eventId within its own batch.
      await batch([{ eventType: "PURCHASE", transactionId: "order-p2", revenue: 2 }, { eventType: "PURCHASE", transactionId: "order-p3", revenue: 3 }]);
      const rows = await h.db.query(
        "SELECT transaction_id, revenue FROM events WHERE appspace_id = ? AND transaction_id LIKE 'order-p%' ORDER BY transaction_id", [appspaceId]);
      expect(rows.map((r: any) => [r.transaction_id, Number(r.revenue)])).toEqual([["order-p1", 100], ["order-p2", 200], ["order-p3", 300]]);
    });

    it("stores the next PURCHASE of an order whose first one a repeated eventId dropped in the same batch", async () => {
      await track({ eventType: "VIEW_CART", eventId: "evt-r" });
      // The first purchase takes order-r, is dropped for its eventId, and gives the order to the second.
      const res = await batch([
        { eventType: "PURCHASE", eventId: "evt-r", transactionId: "order-r", revenue: 4 },
        { eventType: "PURCHASE", eventId: "evt-r2", transactionId: "order-r", revenue: 5 },
        { eventType: "PURCHASE", eventId: "evt-r3", transactionId: "order-r", revenue: 6 },
      ]);
      expect(res.body.data).toEqual({ trackEvents: { ok: true, accepted: 3, errors: [] } });
      const rows = await h.db.query("SELECT event_id, revenue FROM events WHERE appspace_id = ? AND transaction_id = 'order-r' ORDER BY id", [appspaceId]);
      expect(rows.map((r: any) => [r.event_id, Number(r.revenue)])).toEqual([["evt-r2", 500]]);
      const [order] = await h.db.query("SELECT e.event_id FROM orders o JOIN events e ON e.id = o.purchase_row_id WHERE o.appspace_id = ? AND o.transaction_id = 'order-r'", [appspaceId]);
      expect(order.event_id).toBe("evt-r2");
    });

    it("counts an order once however long after its purchase it is sent again (a backfill or replay)", async () => {
      const p = { eventType: "PURCHASE", transactionId: "order-old", revenue: 7 };
      await track(p);
      // As if it had been received 300 days ago.
      const old = new Date(Date.now() - 300 * DAY).toISOString().replace("T", " ").replace("Z", "");
      await h.db.query("UPDATE events SET received_at = ? WHERE appspace_id = ? AND transaction_id = 'order-old'", [old, appspaceId]);
      await track(p);
      await track({ ...p, revenue: 8, timestamp: new Date(Date.now() - 10 * DAY).toISOString() });
      // In a multi-row claim too, beside a new transactionId.
      await batch([p, { ...p, transactionId: "order-old-2" }]);
      await batch([p, { ...p, transactionId: "order-old-2" }]);
      expect(await events("transaction_id = ?", ["order-old"])).toBe(1);
      expect(await events("transaction_id = ?", ["order-old-2"])).toBe(1);
      const stats = await h.gql("query { ingestionStats(range: { days: 1 }) { duplicates } }", {}, created.secretKey);
      expect(stats.body.data!.ingestionStats.duplicates).toBeGreaterThanOrEqual(5);
    });

    it("stores one of many concurrent requests with the same transactionId or eventId", async () => {
      const purchases = Array.from({ length: 12 }, (_, i) =>
        i % 2 ? track({ eventType: "PURCHASE", transactionId: "order-race", revenue: 30 })
          : batch([{ eventType: "PURCHASE", transactionId: "order-race", revenue: 30 }, { eventType: "VIEW_CART", eventId: "evt-race" }]));
      const results = await Promise.all(purchases);
      expect(results.map(r => r.status)).toEqual(Array(12).fill(200));
      expect(results.every(r => !r.body.errors)).toBe(true);
      expect(await events("transaction_id = ?", ["order-race"])).toBe(1);
      expect(await events("event_id = ?", ["evt-race"])).toBe(1);
    });
  });

  it("stores items, properties, identity links and the product catalog", async () => {
    const at = Date.now() - 2 * HOUR;
    await batch([
      {
        eventType: "PURCHASE", transactionId: "order-detail", revenue: 59.97, userId: "user-42", anonymousId: "anon-42",
        aliases: ["email-hash-42", "user-42"], couponCode: "SAVE10", discount: 5, shipping: 4.99, tax: 3.75, cartId: "cart-9",
        timestamp: new Date(at).toISOString(),
        properties: [{ key: "campaign", value: "spring" }, { key: "source", value: "email" }, { key: "medium", value: "newsletter" }, { key: "ref", value: "r1" }],
        items: [
          { itemId: "sku-shirt", itemName: "Shirt", itemCategory: "Apparel", itemBrand: "Acme", itemVariant: "Red / L", itemGroupId: "shirt", price: 19.99, quantity: 3, merchantId: "m-1" },
        ],
      },
      // An older mention fills only what the catalog lacks; a newer one overwrites what it carries.
      { eventType: "VIEW_ITEM", timestamp: new Date(at - HOUR).toISOString(), items: [{ itemId: "sku-shirt", itemName: "Old Shirt", itemImageUrl: "https://img/1.png" }] },
      { eventType: "VIEW_ITEM", timestamp: new Date(at + HOUR).toISOString(), items: [{ itemId: "sku-shirt", itemName: "Shirt v2" }] },
    ]);
    const [ev] = await h.db.query(
      `SELECT id, revenue, discount, shipping, tax, currency, original_revenue, fx_rate, coupon_code, cart_id, campaign, source, medium, user_id, anonymous_id
         FROM events WHERE appspace_id = ? AND transaction_id = 'order-detail'`, [appspaceId]);
    expect({ ...ev, id: undefined, revenue: Number(ev.revenue), discount: Number(ev.discount), shipping: Number(ev.shipping), tax: Number(ev.tax), original_revenue: Number(ev.original_revenue) }).toEqual({
      id: undefined, revenue: 5997, discount: 500, shipping: 499, tax: 375, currency: "USD", original_revenue: 5997, fx_rate: "1",
      coupon_code: "SAVE10", cart_id: "cart-9", campaign: "spring", source: "email", medium: "newsletter", user_id: "user-42", anonymous_id: "anon-42",
    });
    const items = await h.db.query("SELECT line, item_id, item_name, quantity, price, merchant_id FROM event_items WHERE event_row_id = ?", [ev.id]);
    expect(items.map((r: any) => ({ ...r, price: Number(r.price) }))).toEqual([
      { line: 0, item_id: "sku-shirt", item_name: "Shirt", quantity: 3, price: 1999, merchant_id: "m-1" },
    ]);
    const props = await h.db.query("SELECT prop_key, prop_value FROM event_properties WHERE event_row_id = ? ORDER BY prop_key", [ev.id]);
    expect(props).toEqual([
      { prop_key: "campaign", prop_value: "spring" }, { prop_key: "medium", prop_value: "newsletter" },
      { prop_key: "ref", prop_value: "r1" }, { prop_key: "source", prop_value: "email" },
    ]);
    const links = await h.db.query("SELECT identifier, user_id, kind FROM identity_links WHERE appspace_id = ? AND user_id = 'user-42' ORDER BY identifier", [appspaceId]);
    expect(links).toEqual([
      { identifier: "anon-42", user_id: "user-42", kind: "anonymous" },
      { identifier: "email-hash-42", user_id: "user-42", kind: "alias" },
    ]);
    const [product] = await h.db.query("SELECT name, category, brand, variant, group_id, image_url, last_seen_at FROM products WHERE appspace_id = ? AND item_id = 'sku-shirt'", [appspaceId]);
    expect({ ...product, last_seen_at: undefined }).toEqual({
      name: "Shirt v2", category: "Apparel", brand: "Acme", variant: "Red / L", group_id: "shirt", image_url: "https://img/1.png", last_seen_at: undefined,
    });
    // A later request with an older timestamp does not overwrite the newer name.
    await track({ eventType: "VIEW_ITEM", timestamp: new Date(at - 3 * HOUR).toISOString(), items: [{ itemId: "sku-shirt", itemName: "Ancient", itemBrand: "Other" }] });
    const [after] = await h.db.query("SELECT name, brand FROM products WHERE appspace_id = ? AND item_id = 'sku-shirt'", [appspaceId]);
    expect(after).toEqual({ name: "Shirt v2", brand: "Acme" });
  });

  it("derives device type and platform from the user agent and never stores a whole IP", async () => {
    const ua = {
      iphone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
      ipad: "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1",
      android: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
      windows: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    };
    await batch([
      { eventType: "VIEW_CART", eventId: "ctx-1", context: { userAgent: ua.iphone, ip: "203.0.113.77" } },
      { eventType: "VIEW_CART", eventId: "ctx-2", context: { userAgent: ua.ipad, ip: "203.0.113.77", dataProtection: false } },
      { eventType: "VIEW_CART", eventId: "ctx-3", context: { userAgent: ua.android, ip: "2001:db8:1234:5678::1", dataProtection: false, country: "de", locale: "en-us" } },
      { eventType: "VIEW_CART", eventId: "ctx-4", context: { userAgent: ua.windows, ip: "::ffff:198.51.100.9", dataProtection: false } },
      { eventType: "VIEW_CART", eventId: "ctx-5", context: { userAgent: ua.windows, deviceType: "Kiosk", platform: "POS" } },
    ]);
    const rows = await h.db.query(
      "SELECT event_id, device_type, platform, browser, ip_anon, country, locale FROM events WHERE appspace_id = ? AND event_id LIKE 'ctx-%' ORDER BY event_id", [appspaceId]);
    expect(rows).toEqual([
      { event_id: "ctx-1", device_type: "mobile", platform: "ios", browser: "Safari", ip_anon: null, country: null, locale: null },
      { event_id: "ctx-2", device_type: "tablet", platform: "ios", browser: "Safari", ip_anon: "203.0.113.0", country: null, locale: null },
      { event_id: "ctx-3", device_type: "mobile", platform: "android", browser: "Chrome", ip_anon: "2001:db8:1234::", country: "DE", locale: "en-US" },
      { event_id: "ctx-4", device_type: "desktop", platform: "web", browser: "Chrome", ip_anon: "198.51.100.0", country: null, locale: null },
      { event_id: "ctx-5", device_type: "kiosk", platform: "pos", browser: "Chrome", ip_anon: null, country: null, locale: null },
    ]);
  });
});
