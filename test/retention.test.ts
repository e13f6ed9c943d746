import { Appspace } from "../src/appspaces/appspace.entity";
import { updateSettings } from "../src/appspaces/appspace.service";
import { periodOf } from "../src/days";
import { refundTotals, salesTotals } from "../src/reports/sales/revenue.service";
import { ReportScope } from "../src/reports/scope";
import { topProducts } from "../src/reports/sales/top-products.service";
import { purgeExpired } from "../src/retention/retention";
import { READ_MODELS, refreshRollups } from "../src/read-models";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

/*
 * The retention purge: everything an appspace holds from before the oldest day
 * its retention keeps goes (events and their details, the days' rollups and
 * marks, catalog rows of items no kept event mentions, ingestion counts but
 * this month's); what is kept is untouched, other appspaces too, and reports
 * over kept days still equal raw.
 */
describe.each(dbTargets())("retention purge on $name", target => {
  let h: Harness;
  let clock = new Date("2026-02-11T12:00:00Z");

  beforeAll(async () => {
    h = await startHarness(target, [], () => clock);
  });
  afterAll(() => h.close());

  const track = async (key: string, events: object[]) => {
    const res = await h.gql(TRACK_EVENTS, { events }, key);
    expect(res.body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length, errors: [] });
  };

  it("a purchase sent again after its order's purchase was purged takes the order's kept refund along", async () => {
    clock = new Date("2026-02-11T12:00:00Z");
    const space = await h.appspace({ currency: "EUR", retentionDays: 30 });
    await updateSettings(h.db, space.appspaceId, { maxOrderValue: 150, severities: { bot: 1, max_order_value: 1, items_mismatch: 1, velocity: 1, currency: 1 } });
    await track(space.publishableKey, [{ eventType: "PURCHASE", transactionId: "r1", userId: "u1", timestamp: "2026-02-10T10:00:00Z", revenue: 100 }]);
    clock = new Date("2026-03-10T12:00:00Z");
    await track(space.publishableKey, [{ eventType: "REFUND", transactionId: "r1", timestamp: "2026-02-20T10:00:00Z", revenue: 30 }]);
    // 02-10 expires: the purchase goes, the refund stays (as the refund of an order never tracked).
    clock = new Date("2026-03-13T12:00:00Z");
    expect(await purgeExpired(h.db, READ_MODELS, { now: clock })).toEqual(new Map([[space.appspaceId, 1]]));
    // Sent again, over maxOrderValue: flagged, and so is the refund of its order, stored before it.
    await track(space.publishableKey, [{ eventType: "PURCHASE", transactionId: "r1", userId: "u1", timestamp: "2026-02-25T10:00:00Z", revenue: 200 }]);
    const flags = await h.db.query("SELECT event_type, flags FROM events WHERE appspace_id = ? ORDER BY event_type", [space.appspaceId]);
    expect(flags).toEqual([{ event_type: "PURCHASE", flags: "max_order_value" }, { event_type: "REFUND", flags: "max_order_value" }]);
    const appspace = await h.db.getRepository(Appspace).findOneByOrFail({ id: space.appspaceId });
    for (const includeFlagged of [false, true]) {
      const scope: ReportScope = { db: h.db, appspace, period: periodOf("2026-02-12", "2026-03-13"), includeFlagged, rollups: false };
      expect(await refundTotals(scope)).toEqual(includeFlagged ? { count: 1, amount: 3_000 } : { count: 0, amount: 0 });
    }
  });

  it("deletes what is older than the retention, and only that", async () => {
    clock = new Date("2026-02-11T12:00:00Z");
    const a = await h.appspace({ name: "thirty", currency: "EUR", retentionDays: 30 });
    const b = await h.appspace({ name: "year", currency: "EUR", retentionDays: 365 });
    const campaign = [{ key: "campaign", value: "spring" }];
    // Received on 02-11 (its ingestion counts are of that day): two days that will expire.
    await track(a.publishableKey, [
      { eventType: "PURCHASE", transactionId: "o1", userId: "u1", timestamp: "2026-02-10T10:00:00Z", revenue: 100, currency: "EUR", properties: campaign,
        items: [{ itemId: "sku-old", price: 40, quantity: 1 }, { itemId: "sku-both", price: 60, quantity: 1 }] },
      { eventType: "VIEW_ITEM", anonymousId: "a1", timestamp: "2026-02-11T09:00:00Z", items: [{ itemId: "sku-both" }] },
    ]);
    await track(b.publishableKey, [{ eventType: "PURCHASE", transactionId: "o1", userId: "u1", timestamp: "2026-02-10T10:00:00Z", revenue: 20, currency: "EUR" }]);
    clock = new Date("2026-03-10T12:00:00Z");
    await track(a.publishableKey, [
      { eventType: "PURCHASE", transactionId: "o2", userId: "u2", timestamp: "2026-02-12T00:00:00Z", revenue: 50, currency: "EUR", items: [{ itemId: "sku-both", price: 50, quantity: 1 }] },
      // Takes back at most the 100 of o1 while o1 is kept.
      { eventType: "REFUND", transactionId: "o1", timestamp: "2026-02-20T08:00:00Z", revenue: 150, currency: "EUR" },
      { eventType: "PURCHASE", transactionId: "o3", userId: "u1", timestamp: "2026-03-05T10:00:00Z", revenue: 70, currency: "EUR",
        items: [{ itemId: "sku-both", price: 30, quantity: 1 }, { itemId: "sku-new", price: 40, quantity: 1 }] },
    ]);
    await refreshRollups(h.db, { waitSeconds: 10 });

    const appspace = await h.db.getRepository(Appspace).findOneByOrFail({ id: a.appspaceId });
    const scope = (rollups: boolean): ReportScope => ({ db: h.db, appspace, period: periodOf("2026-02-12", "2026-03-13"), includeFlagged: false, rollups });
    expect(await refundTotals(scope(true))).toEqual({ count: 1, amount: 10_000 });
    expect(await h.count("rollup_sales", "appspace_id = ? AND day < ?", [a.appspaceId, "2026-02-12"])).toBeGreaterThan(0);
    expect(await h.count("ingestion_stats", "appspace_id = ? AND day = ?", [a.appspaceId, "2026-02-11"])).toBeGreaterThan(0);

    // Three days on, the oldest day the 30 days keep is 02-12: 02-10 and 02-11 expire. One event per transaction.
    clock = new Date("2026-03-13T12:00:00Z");
    expect(await purgeExpired(h.db, READ_MODELS, { now: clock, chunkSize: 1 })).toEqual(new Map([[a.appspaceId, 2]]));

    const ids = async (table: string, column: string, appspaceId: number) =>
      (await h.db.query(`SELECT ${column} AS v FROM ${table} WHERE appspace_id = ? ORDER BY ${column}`, [appspaceId])).map((r: { v: unknown }) => String(r.v));
    expect(await ids("events", "transaction_id", a.appspaceId)).toEqual(expect.arrayContaining(["o1", "o2", "o3"]));
    expect(await h.count("events", "appspace_id = ?", [a.appspaceId])).toBe(3);
    expect(await h.count("events", "appspace_id = ? AND event_type = 'PURCHASE' AND transaction_id = 'o1'", [a.appspaceId])).toBe(0);
    // o1's purchase went: its order is free again, its row kept without a purchase while its refund is.
    expect(await ids("orders", "transaction_id", a.appspaceId)).toEqual(["o1", "o2", "o3"]);
    expect(await h.count("orders", "appspace_id = ? AND transaction_id = 'o1' AND purchase_row_id IS NULL", [a.appspaceId])).toBe(1);
    expect(await ids("products", "item_id", a.appspaceId)).toEqual(["sku-both", "sku-new"]);
    for (const table of ["event_items", "event_properties"]) {
      expect(await h.count(table, "event_row_id NOT IN (SELECT id FROM events)")).toBe(0);
    }
    expect(await h.count("event_properties", "appspace_id = ?", [a.appspaceId])).toBe(0);
    expect(await h.count("event_items", "appspace_id = ?", [a.appspaceId])).toBe(3);
    for (const table of ["rollup_sales", "rollup_products", "rollup_refunds", "ingestion_stats"]) {
      expect({ table, n: await h.count(table, "appspace_id = ? AND day < ?", [a.appspaceId, "2026-02-12"]) }).toEqual({ table, n: 0 });
    }
    // Seven-day rows go once none of their days is kept; those that also hold kept days are recomputed: the purged day is marked.
    for (const table of ["rollup_sales_7d", "rollup_products_7d"]) {
      expect({ table, n: await h.count(table, "appspace_id = ? AND day < ?", [a.appspaceId, "2026-02-06"]) }).toEqual({ table, n: 0 });
    }
    expect(await h.count("rollup_dirty", "appspace_id = ? AND day = ?", [a.appspaceId, "2026-02-10"])).toBeGreaterThan(0);
    // The kept days' rollups are left; this month's ingestion counts too.
    expect(await h.count("rollup_sales", "appspace_id = ? AND day = ?", [a.appspaceId, "2026-03-05"])).toBeGreaterThan(0);
    expect(await h.count("ingestion_stats", "appspace_id = ? AND day = ?", [a.appspaceId, "2026-03-10"])).toBeGreaterThan(0);
    // The other appspace keeps a year: nothing of it goes.
    expect(await h.count("events", "appspace_id = ?", [b.appspaceId])).toBe(1);
    expect(await ids("orders", "transaction_id", b.appspaceId)).toEqual(["o1"]);
    expect(await h.count("ingestion_stats", "appspace_id = ? AND day = ?", [b.appspaceId, "2026-02-11"])).toBeGreaterThan(0);

    // The refund's order is gone, so it counts as sent: its day was marked stale, and rollups still equal raw.
    expect(await h.count("rollup_dirty", "appspace_id = ? AND day = ?", [a.appspaceId, "2026-02-20"])).toBeGreaterThan(0);
    expect(await refundTotals(scope(true))).toEqual({ count: 1, amount: 15_000 });
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_dirty", "appspace_id = ?", [a.appspaceId])).toBe(0);
    const spans = await h.db.query("SELECT day, orders, revenue FROM rollup_sales_7d WHERE appspace_id = ? AND grain = 'total' AND day <= '2026-02-12' ORDER BY day", [a.appspaceId]);
    expect(spans.map((r: Record<string, unknown>) => [r.day, Number(r.orders), Number(r.revenue)])).toEqual(
      ["2026-02-06", "2026-02-07", "2026-02-08", "2026-02-09", "2026-02-10", "2026-02-11", "2026-02-12"].map(day => [day, 1, 5_000]));
    // A comparison period is not clamped: from 02-06 it reads the span of 02-06 to 02-12, now without o1.
    const previous = (rollups: boolean): ReportScope => ({ ...scope(rollups), period: periodOf("2026-02-06", "2026-02-19") });
    for (const rollups of [true, false]) {
      expect(await salesTotals(previous(rollups))).toMatchObject({ orders: 1, revenue: 5_000 });
      expect(await refundTotals(scope(rollups))).toEqual({ count: 1, amount: 15_000 });
      expect(await salesTotals(scope(rollups))).toMatchObject({ orders: 2, revenue: 12_000 });
      expect((await topProducts(scope(rollups), 10)).map(p => [p.itemId, p.revenue])).toEqual([["sku-both", 8_000], ["sku-new", 4_000]]);
    }

    // Nothing more to do: a second purge deletes nothing.
    expect(await purgeExpired(h.db, READ_MODELS, { now: clock })).toEqual(new Map());
    expect(await h.count("events", "appspace_id = ?", [a.appspaceId])).toBe(3);
  });

  it("refuses events from before the oldest day kept, and takes that day's first millisecond", async () => {
    clock = new Date("2026-03-13T12:00:00Z");
    const a = await h.appspace({ name: "edge", currency: "EUR", retentionDays: 30 });
    const res = await h.gql(TRACK_EVENTS, { events: [
      { eventType: "SEARCH", eventId: "late", timestamp: "2026-02-11T23:59:59.999Z" },
      { eventType: "SEARCH", eventId: "kept", timestamp: "2026-02-12T00:00:00.000Z" },
    ] }, a.publishableKey);
    expect(res.body.data!.trackEvents).toMatchObject({
      accepted: 1,
      errors: [{ index: 0, code: "INVALID_VALUE", message: "events[0]: timestamp is older than the appspace's retention of 30 days (it keeps events from 2026-02-12)" }],
    });
    expect(await purgeExpired(h.db, READ_MODELS, { now: clock })).toEqual(new Map());
    expect(await h.count("events", "appspace_id = ?", [a.appspaceId])).toBe(1);
  });
});

describe.each(dbTargets())("the server's retention purger on $name", target => {
  let h: Harness;
  let clock = new Date("2026-03-10T12:00:00Z");

  beforeAll(async () => {
    h = await startHarness(target, [], () => clock, { retentionPurgeMs: 100 });
  });
  afterAll(() => h.close());

  it("purges on its own, by the server's clock", async () => {
    const a = await h.appspace({ currency: "EUR", retentionDays: 2 });
    const res = await h.gql(TRACK_EVENTS, { events: [
      { eventType: "SEARCH", eventId: "yesterday", timestamp: "2026-03-09T10:00:00Z" },
      { eventType: "SEARCH", eventId: "today", timestamp: "2026-03-10T10:00:00Z" },
    ] }, a.publishableKey);
    expect(res.body.data!.trackEvents.accepted).toBe(2);
    await new Promise(r => setTimeout(r, 300));
    expect(await h.count("events", "appspace_id = ?", [a.appspaceId])).toBe(2);

    clock = new Date("2026-03-11T00:00:00Z");
    for (let tries = 0; (await h.count("events", "appspace_id = ?", [a.appspaceId])) > 1; tries++) {
      if (tries > 100) throw new Error("the purger did not run");
      await new Promise(r => setTimeout(r, 50));
    }
    const [kept] = await h.db.query("SELECT event_id FROM events WHERE appspace_id = ?", [a.appspaceId]);
    expect(kept.event_id).toBe("today");
  });
});
