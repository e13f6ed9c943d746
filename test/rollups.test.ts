import { migrations } from "../src/data-source";
import { randomInt } from "node:crypto";
import mysql from "mysql2/promise";
import { Appspace } from "../src/appspaces/appspace.entity";
import { updateSettings } from "../src/appspaces/appspace.service";
import { prng } from "../src/bench/generate";
import { BreakdownDimension, revenueBreakdown } from "../src/reports/sales/breakdown.service";
import { attribute, createAttributionLoader } from "../src/attribution/attribution.service";
import { AttributionModel } from "../src/attribution/attribution.types";
import { cartTotals } from "../src/reports/carts/cart-abandonment.service";
import { keyHash } from "../src/reports/carts/cart-days";
import { cohorts } from "../src/reports/cohorts/cohorts.service";
import { FUNNEL_STEPS, funnelCounts } from "../src/reports/funnel/funnel.service";
import { addDays, periodOf } from "../src/days";
import { revenueBy, revenueByChannel, revenueByCoupon } from "../src/reports/reports.service";
import { dailySales, refundTotals, salesTotals } from "../src/reports/sales/revenue.service";
import { ReportScope } from "../src/reports/scope";
import { topProducts } from "../src/reports/sales/top-products.service";
import { purgeExpired } from "../src/retention/retention";
import { DayEvent, eachDayEvents } from "../src/events/day-events";
import { withTransaction } from "../src/db/sql";
import { captureLogs } from "../src/log";
import { READ_MODELS, refreshRollups } from "../src/read-models";
import { markPeopleDays } from "../src/rollups/marks";
import { forgetInRollups, lockPeopleRollups, RollupRefresher } from "../src/rollups/refresher";
import { dbTargets } from "./helpers/databases";
import { DELETE_USER, TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

/*
 * Random purchases (several currencies, coupons, channels, devices, countries,
 * lines, some flagged by a fraud rule), the funnel's other steps and removals from carts (with channels and cartIds, by userIds and
 * anonymousIds, some events linking the two or aliases, so that people merge
 * after their days were rolled up), refunds and cancels (partial, too large,
 * before their purchase arrives, of unknown orders, sent with the order id only, of flagged orders), orders sent
 * again days later, links a storefront may not make (identity conflicts) and links from the secret key, backfilled
 * days, GDPR deletions (of people with such orders) and retention purges, in random order and random batches, with
 * the rollups refreshed fully, partly or not at all in between: every report served from rollups must equal the
 * same report recomputed from raw events. Each run takes a fixed seed and a new one, printed with the test's name:
 * ROLLUP_TEST_SEED=n (the first) and ROLLUP_TEST_SEED_2=n (the second) replay an order.
 */
const NOW = new Date("2026-04-01T06:00:00Z");
const SEEDS = [Number(process.env.ROLLUP_TEST_SEED ?? 20261126), Number(process.env.ROLLUP_TEST_SEED_2 ?? randomInt(1, 2 ** 31))];
console.log(`rollups test seeds: ROLLUP_TEST_SEED=${SEEDS[0]} ROLLUP_TEST_SEED_2=${SEEDS[1]}`);
const ROUNDS = 16;

describe.each(dbTargets())("rollups equal raw reports on $name", target => {
  let h: Harness;
  let appspace: Appspace;
  let pk: string;
  let sk: string;

  /** A new appspace for the tests that follow (each random run takes its own), flagging (not blocking) every rule. */
  const freshAppspace = async () => {
    const created = await h.appspace({ currency: "EUR" });
    ({ publishableKey: pk, secretKey: sk } = created);
    await updateSettings(h.db, created.appspaceId, { maxOrderValue: 150, severities: { bot: 1, max_order_value: 1, items_mismatch: 1, velocity: 1, currency: 1 } });
    appspace = await h.db.getRepository(Appspace).findOneByOrFail({ id: created.appspaceId });
  };

  beforeAll(async () => {
    // The test refreshes rollups itself: the background refresher waits an hour.
    h = await startHarness(target, [], () => NOW, { rollupRefreshMs: 3_600_000 });
  });
  afterAll(() => h.close());

  const reports = async (start: string, end: string, includeFlagged: boolean, rollups: boolean) => {
    const scope: ReportScope = { db: h.db, appspace, period: periodOf(start, end), includeFlagged, rollups };
    // As a request does: one load of the period's purchases and touches, whatever the models asked.
    const touches = await createAttributionLoader(h.db, appspace.id).load(scope);
    return {
      sales: await salesTotals(scope),
      refunds: await refundTotals(scope),
      daily: await dailySales(scope),
      breakdown: await revenueBreakdown(scope, [BreakdownDimension.CAMPAIGN, BreakdownDimension.COUPON, BreakdownDimension.DEVICE, BreakdownDimension.COUNTRY], 1000),
      coupons: await revenueByCoupon(scope),
      devices: await revenueBy(scope, BreakdownDimension.DEVICE),
      countries: await revenueBy(scope, BreakdownDimension.COUNTRY),
      products: await topProducts(scope, 100),
      funnel: await funnelCounts(scope),
      carts: await cartTotals(scope),
      attribution: await Promise.all([AttributionModel.LAST_CLICK, AttributionModel.LINEAR, AttributionModel.TIME_DECAY].map(model =>
        attribute(scope, touches, model, model === AttributionModel.LINEAR ? 7 : 30))),
      channels: await revenueByChannel(scope),
      cohorts: await cohorts(h.db, appspace, 24, NOW, includeFlagged, rollups),
    };
  };

  const expectRollupsEqualRaw = async (rand: () => number) => {
    const day = () => `2026-03-${String(1 + Math.floor(rand() * 31)).padStart(2, "0")}`;
    const [a, b] = [day(), day()].sort();
    for (const [start, end] of [["2026-03-01", "2026-03-31"], [a, b], [a, a]]) {
      for (const includeFlagged of [false, true]) {
        expect({ start, end, includeFlagged, ...(await reports(start, end, includeFlagged, true)) })
          .toEqual({ start, end, includeFlagged, ...(await reports(start, end, includeFlagged, false)) });
      }
    }
  };

  /** Each order has one purchase at most, and its refunds and cancels are flagged exactly as that purchase. */
  const expectOrdersWhole = async () => {
    const twice = await h.db.query(`SELECT transaction_id FROM events WHERE appspace_id = ? AND event_type = 'PURCHASE'
      GROUP BY transaction_id HAVING COUNT(*) > 1`, [appspace.id]);
    expect(twice).toEqual([]);
    const astray = await h.db.query(`SELECT r.transaction_id, r.flags, p.flags AS purchase_flags FROM events r
      JOIN orders o ON o.appspace_id = r.appspace_id AND o.transaction_id = r.transaction_id JOIN events p ON p.id = o.purchase_row_id
      WHERE r.appspace_id = ? AND r.event_type IN ('REFUND', 'CANCEL') AND COALESCE(r.flags, '') <> COALESCE(p.flags, '')`, [appspace.id]);
    expect(astray).toEqual([]);
  };

  // Every report is computed twice after each step: on MariaDB, within the full suite on 2 cores, this took 18 to 30 s, too near jest's default 30 s.
  it.each(SEEDS)("in random order of ingest, refunds, cancels, re-sent orders, identity conflicts, backfill, deletions and purges (seed %d)", async seed => {
    await freshAppspace();
    const rand = prng(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
    const users = Array.from({ length: 12 }, (_, n) => `u${n}`);
    const orders: string[] = [];
    const future: string[] = [];
    const at = () => new Date(Date.UTC(2026, 2, 1 + Math.floor(rand() * 31), Math.floor(rand() * 24), Math.floor(rand() * 60), 0, Math.floor(rand() * 1000))).toISOString();
    const amount = (max: number) => Math.round(rand() * max * 100) / 100;
    let order = 0;
    let deleted = 0;
    let oldest = 1;

    const anons = Array.from({ length: 16 }, (_, n) => `a${n}`);
    const steps = [...FUNNEL_STEPS.slice(0, -1).map(s => s.type), "REMOVE_FROM_CART", "ADD_TO_CART"];
    const carts = [null, null, "cart-1", "cart-2", "cart-3"];
    for (let round = 0; round < ROUNDS; round++) {
      const events = Array.from({ length: 10 + Math.floor(rand() * 30) }, () => {
        if (rand() < 0.5) {
          // A funnel step by a person known by an anonymousId, a userId or both (which links them), some by bots (flagged).
          const who = rand();
          const channel = pick([null, ["spring", "google", "cpc"], ["fall", "mail", "email"]]);
          return {
            eventType: pick(steps), timestamp: at(), cartId: pick(carts), sessionId: pick([null, null, "s-1", "s-2"]),
            properties: channel ? [{ key: "campaign", value: channel[0] }, { key: "source", value: channel[1] }, { key: "medium", value: channel[2] }] : [],
            ...(who < 0.8 ? { anonymousId: pick(anons) } : {}), ...(who > 0.5 ? { userId: pick(users) } : {}),
            // Aliases of anonymous ids, or of another userId: a link only the secret key may make.
            ...(who > 0.95 ? { aliases: [pick([...anons, ...users])] } : {}),
            ...(rand() < 0.1 ? { context: { userAgent: "Googlebot/2.1 (+http://www.google.com/bot.html)" } } : {}),
            items: Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({ itemId: pick(["sku-0", "sku-1", "__proto__", "constructor"]), price: amount(60), quantity: 1 + Math.floor(rand() * 2) })),
          };
        }
        const kind = rand();
        if (kind < 0.06 && orders.length > 0) {
          // An order sent again, days later and changed: a duplicate, whenever it comes.
          return { eventType: "PURCHASE", transactionId: pick(orders), timestamp: at(), revenue: amount(200), userId: pick(users) };
        }
        if (kind < 0.6 || orders.length === 0) {
          // Some purchases arrive after refunds and cancels of their order were already counted.
          const transactionId = future.length && rand() < 0.5 ? future.shift()! : `o${order++}`;
          orders.push(transactionId);
          const channel = pick([null, ["spring", "google", "cpc"], ["fall", "mail", "email"]]);
          return {
            eventType: "PURCHASE", transactionId, timestamp: at(), revenue: amount(200), cartId: pick(carts), sessionId: pick([null, null, "s-1", "s-2"]),
            ...(rand() < 0.8 ? { userId: pick(users) } : { anonymousId: pick(anons) }),
            currency: pick(["EUR", "EUR", "USD"]), couponCode: pick([null, "A", "B"]), discount: pick([null, amount(5)]),
            properties: channel ? [{ key: "campaign", value: channel[0] }, { key: "source", value: channel[1] }, { key: "medium", value: channel[2] }] : [],
            context: { deviceType: pick([null, "mobile", "desktop"]), country: pick([null, "DE", "FR"]) },
            items: Array.from({ length: Math.floor(rand() * 4) }, () => ({ itemId: `sku-${Math.floor(rand() * 8)}`, price: amount(60), quantity: 1 + Math.floor(rand() * 3) })),
          };
        }
        // Refunds and cancels of known orders, sometimes of orders never tracked; any day, before their purchase too.
        // Several per order, so that caps apply; some of orders not purchased yet, or never.
        const odds = rand();
        const transactionId = odds < 0.6 ? pick(orders.slice(-6)) : odds < 0.9 ? `o${order++}` : `unknown-${order++}`;
        if (odds >= 0.6 && odds < 0.9) future.push(transactionId);
        if (kind < 0.85) return { eventType: "REFUND", transactionId, timestamp: at(), revenue: amount(120) };
        return { eventType: "CANCEL", transactionId, timestamp: at(), ...(rand() < 0.5 ? { revenue: amount(80) } : {}) };
      });
      // Mostly from the storefront (its links are checked), a quarter from the shop's server (which may join userIds).
      const res = await h.gql(TRACK_EVENTS, { events }, rand() < 0.75 ? pk : sk);
      expect(res.body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length, errors: [] });
      await expectOrdersWhole();

      if (round % 2 === 1) {
        const userId = users[deleted++];
        const placed = await h.db.query("SELECT DISTINCT transaction_id FROM events WHERE appspace_id = ? AND user_id = ? AND event_type = 'PURCHASE'", [appspace.id, userId]);
        expect((await h.gql(DELETE_USER, { userId }, sk)).body.data!.deleteUser.status).toBe("PENDING");
        for (let tries = 0; (await h.count("deletion_requests", "status <> 'DONE'")) > 0; tries++) {
          if (tries > 300) throw new Error("deletion did not finish");
          await new Promise(r => setTimeout(r, 50));
        }
        expect(await h.count("events", "appspace_id = ? AND user_id = ?", [appspace.id, userId])).toBe(0);
        // Their orders went whole: refunds and cancels sent with the order id only too.
        for (const { transaction_id } of placed) expect([transaction_id, await h.count("events", "appspace_id = ? AND transaction_id = ?", [appspace.id, transaction_id])]).toEqual([transaction_id, 0]);
      }

      if (round % 4 === 2) {
        // Retention: the days before an advancing oldest day kept are purged, a few events per transaction. Later rounds write to them again.
        oldest += 1 + Math.floor(rand() * 3);
        const oldestDay = `2026-03-${String(oldest).padStart(2, "0")}`;
        await purgeExpired(h.db, READ_MODELS, { now: new Date(Date.parse(oldestDay) + (appspace.retentionDays - 1) * 86_400_000), chunkSize: 1 + Math.floor(rand() * 7) });
        expect(await h.count("events", "appspace_id = ? AND occurred_at < ?", [appspace.id, `${oldestDay} 00:00:00`])).toBe(0);
      }

      const refresh = rand();
      if (refresh < 0.5) await refreshRollups(h.db, { waitSeconds: 10 });
      // Some days in parts of their people and carts (a busy day's are), as if they held thousands of events.
      else if (refresh < 0.75) await refreshRollups(h.db, { batch: 2, passes: 1, waitSeconds: 10, partEvents: 1 + Math.floor(rand() * 6) });
      await expectRollupsEqualRaw(rand);
    }

    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_dirty")).toBe(0);
    await expectRollupsEqualRaw(rand);
  }, 120_000);

  it("stays exact with concurrent writers and a refresher running beside them", async () => {
    const rand = prng(SEEDS[0] + 1);
    const day = () => `2026-03-${String(1 + Math.floor(rand() * 5)).padStart(2, "0")}T${String(Math.floor(rand() * 24)).padStart(2, "0")}:00:00Z`;
    const batches = Array.from({ length: 32 }, (_, b) => Array.from({ length: 20 }, (_, i) => (i % 4 === 3
      ? { eventType: "REFUND", transactionId: `c-${b - 1}-${i - 3}`, timestamp: day(), revenue: 3 }
      : { eventType: "PURCHASE", transactionId: `c-${b}-${i}`, userId: `cu${i}`, timestamp: day(), revenue: 10 + i, items: [{ itemId: `sku-${i % 3}`, price: 5, quantity: 2 }] })));
    let writing = true;
    const refresher = (async () => {
      let days = 0;
      while (writing) {
        days += await refreshRollups(h.db, { waitSeconds: 10 });
        await new Promise(r => setTimeout(r, 5)); // SQLite's calls are synchronous: let the requests in
      }
      return days;
    })();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let b = next++; b < batches.length; b = next++) {
        const res = await h.gql(TRACK_EVENTS, { events: batches[b] }, pk);
        expect(res.status).toBe(200);
        expect(res.body.data!.trackEvents).toMatchObject({ ok: true, accepted: 20, errors: [] });
      }
    }));
    writing = false;
    expect(await refresher).toBeGreaterThan(0); // days were refreshed while the writers wrote
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_dirty")).toBe(0);
    await expectRollupsEqualRaw(rand);
  });

  it("marks a refund's day when its purchase commits in a transaction that overlaps it", async () => {
    if (target.name !== "mariadb") return expect(target.name).toBe("sqlite"); // SQLite writes one transaction at a time
    const scope: ReportScope = { db: h.db, appspace, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: true };
    // Hold A's transaction open at its last statement (today's "flagged" stats row) from another connection.
    await h.gql(TRACK_EVENTS, { events: [{ eventType: "PURCHASE", transactionId: "skew-warm", timestamp: "2026-03-05T10:00:00Z", revenue: 500 }] }, pk);
    const lock = await mysql.createConnection((h.db.options as { url: string }).url);
    await lock.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    await lock.query("BEGIN");
    await lock.query("SELECT n FROM ingestion_stats WHERE appspace_id = ? AND outcome = 'flagged' AND code = '' FOR UPDATE", [appspace.id]);
    // A: a purchase (flagged: over 150) on 03-01; B: its cancel on 03-02, sent while A is open.
    const a = h.gql(TRACK_EVENTS, { events: [{ eventType: "PURCHASE", transactionId: "skew", timestamp: "2026-03-01T10:00:00Z", revenue: 200 }] }, pk);
    await new Promise(r => setTimeout(r, 300));
    const b = h.gql(TRACK_EVENTS, { events: [{ eventType: "CANCEL", transactionId: "skew", timestamp: "2026-03-02T10:00:00Z" }] }, pk);
    await Promise.race([b, new Promise(r => setTimeout(r, 1000))]);
    await refreshRollups(h.db, { waitSeconds: 10 }); // what has committed so far
    await lock.query("COMMIT");
    await lock.end();
    for (const res of await Promise.all([a, b])) expect(res.body.data!.trackEvents).toMatchObject({ ok: true, errors: [] });
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_dirty")).toBe(0);
    expect(await refundTotals(scope)).toEqual(await refundTotals({ ...scope, rollups: false }));
  });

  it("marks the days of a moved identifier's events that committed after the linking transaction's snapshot", async () => {
    if (target.name !== "mariadb") return expect(target.name).toBe("sqlite"); // SQLite writes one transaction at a time
    const other = await h.appspace({ currency: "EUR" });
    await refreshRollups(h.db, { waitSeconds: 10 });
    await h.db.transaction(async em => {
      // The link's transaction reads first (its snapshot is taken), then an event of "anon-late" commits beside it
      // and the refresher rolls its day up for "anon-late".
      await em.query("SELECT COUNT(*) AS n FROM events WHERE appspace_id = ?", [other.appspaceId]);
      const sent = await h.gql(TRACK_EVENTS, { events: [{ eventType: "VIEW_ITEM", anonymousId: "anon-late", timestamp: "2026-03-07T10:00:00Z", items: [{ itemId: "a" }] }] }, other.publishableKey);
      expect(sent.body.data!.trackEvents).toMatchObject({ accepted: 1 });
      expect(await refreshRollups(h.db, { waitSeconds: 10 })).toBe(1);
      // The link makes anon-late count for someone else: its snapshot does not hold the event, a locking read does.
      await markPeopleDays(em, other.appspaceId, ["anon-late"]);
    });
    expect((await h.db.query("SELECT DISTINCT day FROM rollup_dirty WHERE appspace_id = ?", [other.appspaceId])).map((r: { day: string }) => r.day)).toEqual(["2026-03-07"]);
  });

  it("computes attribution for the days it cannot read from rollup_attribution from their purchases and buyers' touches, however many buyers", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    // More buyers than one statement could name on SQLite (500 SELECTs in a UNION), each touched four days before buying.
    const many = Array.from({ length: 501 }, (_, i) => [
      { eventType: "VIEW_ITEM", userId: `bulk-${i}`, timestamp: "2026-03-06T10:00:00Z", properties: [{ key: "campaign", value: "bulk" }], items: [{ itemId: "a" }] },
      { eventType: "PURCHASE", userId: `bulk-${i}`, transactionId: `bulk-${i}`, revenue: 1, timestamp: "2026-03-10T10:00:00Z" },
    ]).flat();
    // A backfill from the shop's server: from one browser (a publishable key), 501 purchases a minute would trip velocity.
    for (let i = 0; i < many.length; i += 100) await h.gql(TRACK_EVENTS, { events: many.slice(i, i + 100) }, other.secretKey);
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_attribution", "appspace_id = ? AND day = '2026-03-10'", [space.id])).toBe(30);
    const scope: ReportScope = { db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: false };
    const attribution = async (rollups: boolean) =>
      attribute({ ...scope, rollups }, await createAttributionLoader(h.db, space.id).load({ ...scope, rollups }), AttributionModel.LAST_CLICK, 30);
    const expected = { attributed: [expect.objectContaining({ campaign: "bulk", revenue: 501, orders: 501 })], unattributed: { revenue: 0, orders: 0 } };
    expect(await attribution(true)).toMatchObject(expected);
    // The purchases' day marked stale (its touches' day too, in turn): computed from the purchases and touches there are.
    for (const day of ["2026-03-10", "2026-03-06"]) {
      await h.db.query("DELETE FROM rollup_dirty WHERE appspace_id = ?", [space.id]);
      await h.db.query("INSERT INTO rollup_dirty (appspace_id, day) VALUES (?, ?)", [space.id, day]);
      await h.db.query("UPDATE rollup_attribution SET revenue = 0 WHERE appspace_id = ?", [space.id]);
      expect(await attribution(true)).toMatchObject(expected);
      expect(await attribution(true)).toEqual(await attribution(false));
    }
  });

  it("stores attribution credits per day, computes them again when touches before them change, and reads them only while those are clean", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const send = async (events: object[]) => expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ accepted: events.length });
    await send([{ eventType: "PURCHASE", userId: "cred", transactionId: "cred-1", revenue: 30, timestamp: "2026-03-20T10:00:00Z" }]);
    await refreshRollups(h.db, { waitSeconds: 10 });
    const scope: ReportScope = { db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: false };
    const attribution = async (rollups: boolean, window = 30) =>
      attribute({ ...scope, rollups }, await createAttributionLoader(h.db, space.id).load({ ...scope, rollups }), AttributionModel.LAST_CLICK, window);
    // What rollup_attribution holds for the purchase's day (without flagged events, last click, 30 days).
    const stored = async () => (await h.db.query(`SELECT campaign, revenue, orders FROM rollup_attribution
      WHERE appspace_id = ? AND day = '2026-03-20' AND with_flagged = 0 AND model = 'LAST_CLICK' AND window_days = 30`, [space.id]))
      .map((r: Record<string, unknown>) => [r.campaign, Number(r.revenue), Number(r.orders)]);
    expect(await stored()).toEqual([[null, 3000, 1000]]);
    expect(await h.count("rollup_attribution", "appspace_id = ? AND day = '2026-03-20'", [space.id])).toBe(30); // 2 variants x 3 models x 5 windows
    expect((await attribution(true)).unattributed).toEqual({ revenue: 30, orders: 1 });

    // A touch backfilled fifteen days before: read raw while its day is stale, the stored credits are not.
    await send([{ eventType: "VIEW_ITEM", userId: "cred", timestamp: "2026-03-05T10:00:00Z", properties: [{ key: "campaign", value: "late" }], items: [{ itemId: "a" }] }]);
    expect((await attribution(true)).attributed).toEqual([expect.objectContaining({ campaign: "late", revenue: 30, orders: 1 })]);
    expect(await attribution(true)).toEqual(await attribution(false));
    expect(await stored()).toEqual([[null, 3000, 1000]]);
    // Refreshing the touch's day (and the next, whose purchases its channel may be credited to) computes the purchase's
    // day again: credited within 30 days, not within 14.
    expect(await refreshRollups(h.db, { waitSeconds: 10 })).toBe(2);
    expect(await h.count("rollup_attribution_dirty")).toBe(0);
    expect(await stored()).toEqual([["late", 3000, 1000]]);
    expect((await attribution(true, 14)).unattributed).toEqual({ revenue: 30, orders: 1 });
    for (const window of [14, 30]) expect(await attribution(true, window)).toEqual(await attribution(false, window));

    // The report reads the stored row (changed here behind the server's back) while every day it depends on is clean.
    await h.db.query("UPDATE rollup_attribution SET revenue = revenue + 100 WHERE appspace_id = ? AND day = '2026-03-20' AND campaign = 'late'", [space.id]);
    expect((await attribution(true)).attributed).toEqual([expect.objectContaining({ campaign: "late", revenue: 31 })]);
    // A stale day among the 90 before the purchase, or a mark of the day itself: computed from its purchases again.
    await h.db.query("INSERT INTO rollup_dirty (appspace_id, day) VALUES (?, '2026-01-01')", [space.id]);
    expect((await attribution(true)).attributed).toEqual([expect.objectContaining({ campaign: "late", revenue: 30 })]);
    await h.db.query("DELETE FROM rollup_dirty WHERE appspace_id = ?", [space.id]);
    await h.db.query("INSERT INTO rollup_attribution_dirty (appspace_id, day) VALUES (?, '2026-03-20')", [space.id]);
    expect((await attribution(true)).attributed).toEqual([expect.objectContaining({ campaign: "late", revenue: 30 })]);
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await stored()).toEqual([["late", 3000, 1000]]);

    // A touch 80 days before the purchase counts within 90 days only; its day's refresh (with the next day's, for the
    // channel credit of its purchases) computes the purchase's day again.
    await send([{ eventType: "VIEW_ITEM", userId: "cred", timestamp: "2025-12-30T10:00:00Z", properties: [{ key: "campaign", value: "early" }], items: [{ itemId: "a" }] }]);
    expect(await refreshRollups(h.db, { waitSeconds: 10 })).toBe(2);
    const linear = async (window: number) => (await h.db.query(`SELECT campaign, revenue FROM rollup_attribution
      WHERE appspace_id = ? AND day = '2026-03-20' AND with_flagged = 0 AND model = 'LINEAR' AND window_days = ? ORDER BY campaign`, [space.id, window]))
      .map((r: Record<string, unknown>) => [r.campaign, Number(r.revenue)]);
    expect([await linear(60), await linear(90)]).toEqual([[["late", 3000]], [["early", 1500], ["late", 1500]]]);
  });

  it("serves refreshed days from the rollup tables, seven days to a row where it can, and stale days from raw events", async () => {
    // Purchases inside a span and on a day no span of March holds, whatever the random data left there.
    const res = await h.gql(TRACK_EVENTS, { events: ["2026-03-10", "2026-03-30"].map(day => ({ eventType: "PURCHASE", transactionId: `plan-${day}`, timestamp: `${day}T12:00:00Z`, revenue: 10 })) }, pk);
    expect(res.body.data!.trackEvents).toMatchObject({ ok: true, accepted: 2 });
    await refreshRollups(h.db, { waitSeconds: 10 });
    // March reads four seven-day rows (from the 1st, 8th, 15th and 22nd) and the daily rows of the 29th to the 31st.
    const scope: ReportScope = { db: h.db, appspace, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: true };
    const before = await salesTotals(scope);
    expect(before.orders).toBeGreaterThan(0);
    expect(before).toEqual(await salesTotals({ ...scope, rollups: false }));
    const daily = async () => (await dailySales(scope)).reduce((sum, d) => sum + d.revenue, 0);
    expect(await daily()).toBe(before.revenue);

    // Rollup rows changed behind the server's back show in the report where it reads them. Totals read the "total" grain: a row per flagged state.
    const bump = async (table: string, day: string) => {
      await h.db.query(`UPDATE ${table} SET revenue = revenue + 1 WHERE appspace_id = ? AND day = ? AND grain = 'total'`, [appspace.id, day]);
      return h.count(table, "appspace_id = ? AND day = ? AND grain = 'total'", [appspace.id, day]);
    };
    const dayOf = async (first: string, last: string) => (await h.db.query(
      "SELECT MIN(day) AS day FROM rollup_sales WHERE appspace_id = ? AND grain = 'total' AND day >= ? AND day <= ?", [appspace.id, first, last]))[0].day as string;
    const [inSpan, alone] = [await dayOf("2026-03-08", "2026-03-14"), await dayOf("2026-03-29", "2026-03-31")];
    expect([inSpan, alone]).toEqual([expect.stringMatching(/^2026-03-(0[89]|1[0-4])$/), expect.stringMatching(/^2026-03-(29|30|31)$/)]);
    const span = await bump("rollup_sales_7d", "2026-03-08");
    const single = await bump("rollup_sales", alone);
    const hidden = await bump("rollup_sales", inSpan);
    expect(Math.min(span, single, hidden)).toBeGreaterThanOrEqual(1);
    // The day inside the span is read through the span; a report by day reads daily rows only.
    expect((await salesTotals(scope)).revenue).toBe(before.revenue + span + single);
    expect(await daily()).toBe(before.revenue + single + hidden);

    await h.db.query("UPDATE rollup_sales SET revenue = revenue - 1 WHERE appspace_id = ? AND day = ? AND grain = 'total'", [appspace.id, alone]);
    expect((await salesTotals(scope)).revenue).toBe(before.revenue + span);

    // Once a day of the bumped span is marked stale, the span is not read: its days come from their daily rows and
    // (the stale one, whose daily row is bumped too) raw events.
    await h.db.query("INSERT INTO rollup_dirty (appspace_id, day) VALUES (?, ?)", [appspace.id, inSpan]);
    expect(await salesTotals(scope)).toEqual(before);
    expect(await daily()).toBe(before.revenue);
    // The refresh puts the day and the spans that hold it right.
    expect(await refreshRollups(h.db, { waitSeconds: 10 })).toBe(1);
    expect(await h.count("rollup_dirty")).toBe(0);
    expect(await h.count("rollup_sales", "appspace_id = ? AND day = ? AND grain = 'total'", [appspace.id, inSpan])).toBe(hidden);
    expect(await salesTotals(scope)).toEqual(before);
    expect(await daily()).toBe(before.revenue);
  });

  it("refreshes a day in the background once it has been quiet (or waited long), reads it raw meanwhile, and keeps two marks: its first and its newest", async () => {
    await refreshRollups(h.db, { waitSeconds: 10 });
    let clock = 1_000_000;
    const refresher = new RollupRefresher(h.db, READ_MODELS, 3_600_000, 10_000, 60_000, () => clock);
    refresher.start(); // passes come from kick() below only
    const scope: ReportScope = { db: h.db, appspace, period: periodOf("2026-03-20", "2026-03-20"), includeFlagged: true };
    const purchase = (n: number) => h.gql(TRACK_EVENTS, { events: [{ eventType: "PURCHASE", transactionId: `spaced-${n}`, timestamp: "2026-03-20T12:00:00Z", revenue: 10 }] }, pk);
    const marks = () => h.count("rollup_dirty", "appspace_id = ? AND day = '2026-03-20'", [appspace.id]);
    const markIds = async () => (await h.db.query("SELECT id FROM rollup_dirty WHERE appspace_id = ? AND day = '2026-03-20' ORDER BY id", [appspace.id])).map((r: { id: unknown }) => Number(r.id));
    // What the rollup table holds for the day, whatever reports read.
    const rolledUp = async () => Number((await h.db.query(
      "SELECT COALESCE(SUM(orders), 0) AS n FROM rollup_sales WHERE appspace_id = ? AND day = '2026-03-20' AND grain = 'total'", [appspace.id]))[0].n);
    const exact = async () => expect(await salesTotals(scope)).toEqual(await salesTotals({ ...scope, rollups: false }));
    try {
      const before = await rolledUp();
      await purchase(1);
      const [first] = await markIds();
      await purchase(2);
      await purchase(3);
      const newest = (await markIds()).at(-1);
      await refresher.kick(); // first seen: left stale, its three marks down to the first and the newest
      expect(await markIds()).toEqual([first, newest]);
      expect(await rolledUp()).toBe(before);
      expect((await salesTotals(scope)).orders).toBe(before + 3); // from raw events
      await exact();

      clock += 9_000;
      await purchase(4);
      await refresher.kick(); // written to again: left stale
      clock += 9_000;
      await refresher.kick(); // 9 s without a mark: still left
      expect([await marks(), await rolledUp(), (await markIds())[0]]).toEqual([2, before, first]);
      clock += 1_000;
      await refresher.kick(); // 10 s quiet: refreshed
      expect([await marks(), await rolledUp()]).toEqual([0, before + 4]);
      await exact();

      // Written to every 5 s, the day waits at most a minute.
      for (let n = 5; n < 20; n++) {
        await purchase(n);
        await refresher.kick();
        if ((await marks()) === 0) break;
        clock += 5_000;
      }
      expect(await marks()).toBe(0);
      expect(clock).toBeGreaterThanOrEqual(1_000_000 + 19_000 + 60_000);
      expect(clock).toBeLessThan(1_000_000 + 19_000 + 70_000);
      expect(await rolledUp()).toBe((await salesTotals({ ...scope, rollups: false })).orders);
      await exact();
    } finally {
      await refresher.stop();
    }
  });

  it("counts a person's rolled-up days for whoever a later link makes them", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const track = async (events: object[]) => expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length });
    const funnel = (rollups: boolean) => funnelCounts({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: false, rollups });
    const cohortsOf = (rollups: boolean) => cohorts(h.db, space, 2, NOW, false, rollups);
    // m-u buys on 03-01; anonymous m-a views, adds to cart and buys on 03-03; that order is refunded (no ids) on 03-05.
    await track([
      { eventType: "PURCHASE", transactionId: "m-1", userId: "m-u", timestamp: "2026-03-01T10:00:00Z", revenue: 30 },
      { eventType: "VIEW_ITEM", anonymousId: "m-a", timestamp: "2026-03-03T10:00:00Z", items: [{ itemId: "sku", price: 20 }] },
      { eventType: "ADD_TO_CART", anonymousId: "m-a", timestamp: "2026-03-03T10:01:00Z", items: [{ itemId: "sku", price: 20 }] },
      { eventType: "PURCHASE", transactionId: "m-2", anonymousId: "m-a", timestamp: "2026-03-03T10:05:00Z", revenue: 20 },
      { eventType: "REFUND", transactionId: "m-2", timestamp: "2026-03-05T10:00:00Z", revenue: 5 },
    ]);
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect((await cohortsOf(true)).totalPurchasingUsers).toBe(2);
    expect((await funnel(true))[0].count).toBe(1);

    // On 03-06 m-a logs in as m-u: m-a's events and the refund of its order now count for m-u.
    await track([{ eventType: "VIEW_CART", userId: "m-u", anonymousId: "m-a", timestamp: "2026-03-06T10:00:00Z" }]);
    const marked = await h.db.query("SELECT DISTINCT day FROM rollup_dirty WHERE appspace_id = ? ORDER BY day", [space.id]);
    expect(marked.map((r: { day: string }) => r.day)).toEqual(["2026-03-03", "2026-03-05", "2026-03-06"]);
    for (const refreshed of [false, true]) {
      if (refreshed) await refreshRollups(h.db, { waitSeconds: 10 });
      const merged = await cohortsOf(true);
      expect(merged).toMatchObject({ totalPurchasingUsers: 1, avgLtv: 45, cohorts: [{ month: "2026-04", users: 0 }, { month: "2026-03", users: 1, revenueByMonth: [{ monthOffset: 0, revenue: 45 }, { monthOffset: 1, revenue: 0 }] }] });
      expect(merged).toEqual(await cohortsOf(false));
      expect(await funnel(true)).toEqual(await funnel(false));
      expect((await funnel(true)).slice(0, 3).map(s => s.count)).toEqual([1, 1, 1]);
    }
  });

  it("counts the funnel from pairs of days, and with stale last days (today under ingest) from their events, as raw events do", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const rand = prng(SEEDS[0] + 3);
    const funnel = (start: string, end: string, includeFlagged: boolean, rollups: boolean) =>
      funnelCounts({ db: h.db, appspace: space, period: periodOf(start, end), includeFlagged, rollups });
    const dayOf = (d: number) => `2026-03-${String(d).padStart(2, "0")}`;
    // People take a few funnel steps a day, in any order, on a few of ten days; some are bots (flagged).
    const session = (d: number) => {
      const n = Math.floor(rand() * 40);
      const who = rand() < 0.5 ? { userId: `f${n}` } : { anonymousId: `fa${n}` };
      const bot = rand() < 0.15 ? { context: { userAgent: "Googlebot/2.1 (+http://www.google.com/bot.html)" } } : {};
      // Mostly the next step, some out of order; a session may go on from where the person's last one stopped.
      let step = Math.floor(rand() * 3);
      const hour = Math.floor(rand() * 20);
      return Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, e) => {
        step = rand() < 0.2 ? Math.floor(rand() * FUNNEL_STEPS.length) : Math.min(FUNNEL_STEPS.length - 1, step + (e === 0 ? 0 : 1));
        const type = FUNNEL_STEPS[step].type;
        const at = new Date(Date.UTC(2026, 2, d, hour + e, Math.floor(rand() * 60))).toISOString();
        return { eventType: type, ...who, ...bot, timestamp: at, ...(type === "PURCHASE" ? { transactionId: `f-${d}-${n}-${rand()}`, revenue: 5 } : { items: [{ itemId: "sku", price: 5 }] }) };
      });
    };
    const track = async (all: object[]) => {
      for (let i = 0; i < all.length; i += 100) {
        const events = all.slice(i, i + 100);
        expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length });
      }
    };
    await track(Array.from({ length: 60 }, () => session(1 + Math.floor(rand() * 10))).flat());
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_funnel_pairs", "appspace_id = ? AND day_from < day_to", [space.id])).toBeGreaterThan(0);
    for (let round = 0; round < 4; round++) {
      if (round > 0) {
        // More sessions on the last days only: they are stale, the days before them clean.
        await track(Array.from({ length: 15 }, () => session(10 - Math.floor(rand() * round))).flat());
        const stale = await h.db.query("SELECT DISTINCT day FROM rollup_dirty WHERE appspace_id = ? ORDER BY day", [space.id]);
        expect(stale.length).toBeGreaterThan(0);
        expect(stale[0].day >= dayOf(10 - round + 1)).toBe(true);
      }
      for (const [a, b] of [[1, 10], [1 + Math.floor(rand() * 9), 10], [1 + Math.floor(rand() * 5), 6 + Math.floor(rand() * 5)]]) {
        for (const includeFlagged of [false, true]) {
          expect({ a, b, includeFlagged, steps: await funnel(dayOf(a), dayOf(b), includeFlagged, true) })
            .toEqual({ a, b, includeFlagged, steps: await funnel(dayOf(a), dayOf(b), includeFlagged, false) });
        }
      }
    }
    const all = await funnel(dayOf(1), dayOf(10), false, false);
    expect(all[0].count).toBeGreaterThan(10);
    expect(all[2].count).toBeGreaterThan(2);
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await funnel(dayOf(1), dayOf(10), false, true)).toEqual(all);
    // The pairs are read: one changed behind the server's back shows in the answer.
    const [pair] = await h.db.query("SELECT day_from, day_to FROM rollup_funnel_pairs WHERE appspace_id = ? AND with_flagged = 0 ORDER BY day_from, day_to LIMIT 1", [space.id]);
    await h.db.query("UPDATE rollup_funnel_pairs SET reached1 = reached1 + 4 WHERE appspace_id = ? AND with_flagged = 0 AND day_from = ? AND day_to = ?", [space.id, pair.day_from, pair.day_to]);
    expect((await funnel(dayOf(1), dayOf(10), false, true))[1].count).toBe(all[1].count + 4);
  });

  it("keeps the funnel's pairs of flagged events when only a person's flagged moves of a day change", async () => {
    const other = await h.appspace({ currency: "EUR" });
    // Bots' events are kept, flagged.
    await updateSettings(h.db, other.appspaceId, { severities: { bot: 1, max_order_value: 1, items_mismatch: 1, velocity: 1, currency: 1 } });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const bot = { context: { userAgent: "Googlebot/2.1 (+http://www.google.com/bot.html)" } };
    const track = async (events: object[]) => expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length });
    const funnel = (includeFlagged: boolean, rollups: boolean) =>
      funnelCounts({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-03"), includeFlagged, rollups });
    await track([{ eventType: "VIEW_ITEM", userId: "fb", timestamp: "2026-03-01T10:00:00Z", items: [{ itemId: "sku", price: 1 }] }]);
    await track([{ eventType: "ADD_TO_CART", userId: "fb", timestamp: "2026-03-02T10:00:00Z", items: [{ itemId: "sku", price: 1 }], ...bot }]);
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect((await funnel(true, true)).map(s => s.count).slice(0, 3)).toEqual([1, 1, 0]);
    // Another flagged step on the 2nd: its moves without flagged events stay as they were, those with them change.
    await track([{ eventType: "VIEW_CART", userId: "fb", timestamp: "2026-03-02T11:00:00Z", ...bot }]);
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect((await funnel(true, false)).map(s => s.count).slice(0, 3)).toEqual([1, 1, 1]);
    expect(await funnel(true, true)).toEqual(await funnel(true, false));
    expect(await funnel(false, true)).toEqual(await funnel(false, false));
  });

  it("reads carts and the funnel of clean days in one statement each (after the stale days'), however many people and carts", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const scope: ReportScope = { db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-10"), includeFlagged: false };
    const people = async (from: number, to: number) => {
      // Each person views and adds to a cart on one day, and comes back to add more and view the cart on a later one.
      const events = Array.from({ length: to - from }, (_, n) => {
        const [userId, d] = [`s${from + n}`, 1 + ((from + n) % 5)];
        const at = (day: number) => `2026-03-${String(day).padStart(2, "0")}T10:00:00Z`;
        return [
          { eventType: "VIEW_ITEM", userId, timestamp: at(d), items: [{ itemId: "sku", price: 2 }] },
          { eventType: "ADD_TO_CART", userId, cartId: `s-${from + n}`, timestamp: at(d), items: [{ itemId: "sku", price: 2 }] },
          { eventType: "ADD_TO_CART", userId, cartId: `s-${from + n}`, timestamp: at(d + 3), items: [{ itemId: "sku", price: 2 }] },
          { eventType: "VIEW_CART", userId, timestamp: at(d + 3) },
        ];
      }).flat();
      for (let i = 0; i < events.length; i += 100) {
        expect((await h.gql(TRACK_EVENTS, { events: events.slice(i, i + 100) }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true });
      }
      await refreshRollups(h.db, { waitSeconds: 10 });
    };
    const statements = async () => {
      h.sql.reset();
      const [carts, funnel] = [await cartTotals(scope), await funnelCounts(scope)];
      const run = [...h.sql.statements];
      expect(carts).toEqual(await cartTotals({ ...scope, rollups: false }));
      expect(funnel).toEqual(await funnelCounts({ ...scope, rollups: false }));
      return { carts, funnel: funnel.map(s => s.count), run };
    };
    await people(0, 3);
    const few = await statements();
    expect(few.carts.abandonedCarts).toBe(3);
    expect(few.funnel.slice(0, 3)).toEqual([3, 3, 3]);
    await people(3, 200);
    const many = await statements();
    expect(many.carts).toMatchObject({ abandonedCarts: 200, abandonedValue: 80_000 }); // two units at 2.00 each
    expect(many.funnel.slice(0, 3)).toEqual([200, 200, 200]);
    // Each report: its stale days (none), then (carts) the carts still open on the range's last day (none), then one sum.
    expect(many.run).toHaveLength(5);
    expect(many.run).toEqual(few.run);
  });

  it("folds carts over days: runs split by purchases, a cartId's cart completed by its person's purchase, latest prices", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const item = (itemId: string, price: number, quantity: number) => ({ items: [{ itemId, price, quantity }] });
    const events = [
      // u-c: a run over two days completed by a purchase, a run between two purchases of a day, a run left with 2 x 7.
      { eventType: "ADD_TO_CART", userId: "u-c", timestamp: "2026-03-02T10:00:00Z", ...item("sku-a", 10, 2) },
      { eventType: "ADD_TO_CART", userId: "u-c", timestamp: "2026-03-03T09:00:00Z", ...item("sku-b", 5, 1) },
      { eventType: "PURCHASE", userId: "u-c", transactionId: "c-1", timestamp: "2026-03-03T10:00:00Z", revenue: 25 },
      { eventType: "ADD_TO_CART", userId: "u-c", timestamp: "2026-03-03T11:00:00Z", ...item("sku-a", 10, 1) },
      { eventType: "PURCHASE", userId: "u-c", transactionId: "c-2", timestamp: "2026-03-03T12:00:00Z", revenue: 10 },
      { eventType: "ADD_TO_CART", userId: "u-c", timestamp: "2026-03-03T13:00:00Z", ...item("sku-c", 7, 3) },
      { eventType: "REMOVE_FROM_CART", userId: "u-c", timestamp: "2026-03-04T08:00:00Z", ...item("sku-c", 7, 1) },
      // Cart k1 (u-d) is completed by u-d's purchase without a cartId; cart k2 (anonymous) is left with 3 units at the latest price, 6.
      { eventType: "ADD_TO_CART", userId: "u-d", cartId: "k1", timestamp: "2026-03-02T10:00:00Z", ...item("sku-d", 4, 1) },
      { eventType: "PURCHASE", userId: "u-d", transactionId: "d-1", timestamp: "2026-03-05T10:00:00Z", revenue: 4 },
      { eventType: "PURCHASE", userId: "u-f", transactionId: "f-1", timestamp: "2026-03-05T10:00:00Z", revenue: 1 },
      { eventType: "ADD_TO_CART", anonymousId: "a-e", cartId: "k2", timestamp: "2026-03-04T10:00:00Z", ...item("sku-e", 3, 2) },
      { eventType: "ADD_TO_CART", anonymousId: "a-e", cartId: "k2", timestamp: "2026-03-06T10:00:00Z", ...item("sku-e", 6, 1) },
    ];
    expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length });
    const scope: ReportScope = { db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: false };
    const expected = { completedCarts: 3, abandonedCarts: 2, abandonedValue: 3200, abandonmentRate: 40, openCarts: 0 };
    expect(await cartTotals({ ...scope, rollups: false })).toEqual(expected);
    expect(await cartTotals(scope)).toEqual(expected); // stale days, from raw events
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_carts", "appspace_id = ?", [space.id])).toBeGreaterThan(0);
    expect(await cartTotals(scope)).toEqual(expected); // from rollup_carts
    // Cart k3 of u-f, backfilled on the 2nd: that day is stale, read from raw events, and u-f's purchase on the 5th, from rollup_carts, completes it.
    await h.gql(TRACK_EVENTS, { events: [{ eventType: "ADD_TO_CART", userId: "u-f", cartId: "k3", timestamp: "2026-03-02T11:00:00Z", ...item("sku-v", 1, 1) }] }, other.publishableKey);
    expect(await h.count("rollup_dirty", "appspace_id = ? AND day = '2026-03-02'", [space.id])).toBeGreaterThan(0);
    const backfilled = { ...expected, completedCarts: 4, abandonmentRate: 33.3 };
    expect(await cartTotals({ ...scope, rollups: false })).toEqual(backfilled);
    expect(await cartTotals(scope)).toEqual(backfilled);
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await cartTotals(scope)).toEqual(backfilled);
    // From the 4th on, only u-c's removal is left of its runs (no add: no cart), and k2 holds both its adds.
    const later = { ...scope, period: periodOf("2026-03-04", "2026-03-31") };
    for (const rollups of [true, false]) {
      expect(await cartTotals({ ...later, rollups })).toEqual({ completedCarts: 0, abandonedCarts: 1, abandonedValue: 1800, abandonmentRate: 100, openCarts: 0 });
    }
  });

  it("counts carts from the days' totals and the carts other days change, as raw events do, with many people and carts on one day each", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const rand = prng(SEEDS[0] + 2);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
    const day = () => 1 + Math.floor(rand() * 10);
    const at = (d: number) => new Date(Date.UTC(2026, 2, d, Math.floor(rand() * 24), Math.floor(rand() * 60), 0, Math.floor(rand() * 3) * 100)).toISOString();
    let order = 0;
    const cartsOf = async (start: string, end: string, includeFlagged: boolean, rollups: boolean) =>
      cartTotals({ db: h.db, appspace: space, period: periodOf(start, end), includeFlagged, rollups });
    for (let round = 0; round < 6; round++) {
      // Sessions of a person (a userId, an anonymousId, or both) on one day: adds, removals and purchases, with a cartId or without;
      // some people come back on another day, some carts go on on another, some sessions are bots' (flagged).
      const events: Record<string, unknown>[] = [];
      for (let s = 0; s < 12; s++) {
        const n = Math.floor(rand() * 80);
        const who = rand() < 0.5 ? { userId: `u${n}` } : rand() < 0.7 ? { anonymousId: `a${n}` } : { userId: `u${n}`, anonymousId: `a${n}` };
        const cartId = rand() < 0.4 ? `k${Math.floor(rand() * 60)}` : undefined;
        const d = day();
        const bot = rand() < 0.1 ? { context: { userAgent: "Googlebot/2.1 (+http://www.google.com/bot.html)" } } : {};
        for (let e = 0, count = 1 + Math.floor(rand() * 4); e < count; e++) {
          const kind = rand();
          const items = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({ itemId: pick(["sku-0", "sku-1", "sku-2"]), price: 1 + Math.floor(rand() * 20), quantity: 1 + Math.floor(rand() * 2) }));
          const base = { ...who, ...bot, timestamp: at(rand() < 0.9 ? d : day()), ...(rand() < 0.8 && cartId ? { cartId } : {}) };
          if (kind < 0.55) events.push({ ...base, eventType: "ADD_TO_CART", items });
          else if (kind < 0.7) events.push({ ...base, eventType: "REMOVE_FROM_CART", items });
          else events.push({ ...base, eventType: "PURCHASE", transactionId: `k-${order++}`, revenue: 10 });
        }
      }
      expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length });
      const refresh = rand();
      if (refresh < 0.4) await refreshRollups(h.db, { waitSeconds: 10 });
      else if (refresh < 0.8) await refreshRollups(h.db, { batch: 3, passes: 1, waitSeconds: 10, partEvents: 1 + Math.floor(rand() * 6) });
      for (let r = 0; r < 4; r++) {
        const [a, b] = r === 0 ? [1, 10] : [day(), day()].sort((x, y) => x - y);
        const [start, end] = [a, b].map(x => `2026-03-${String(x).padStart(2, "0")}`);
        for (const includeFlagged of [false, true]) {
          expect({ start, end, includeFlagged, ...(await cartsOf(start, end, includeFlagged, true)) })
            .toEqual({ start, end, includeFlagged, ...(await cartsOf(start, end, includeFlagged, false)) });
        }
      }
    }
    await refreshRollups(h.db, { waitSeconds: 10 });
    const all = await cartsOf("2026-03-01", "2026-03-10", false, false);
    expect(all.completedCarts).toBeGreaterThan(5);
    expect(all.abandonedCarts).toBeGreaterThan(5);
    expect(await cartsOf("2026-03-01", "2026-03-10", false, true)).toEqual(all);
    // The totals are read: a day's, changed behind the server's back, shows in the answer.
    await h.db.query("UPDATE rollup_cart_totals SET completed = completed + 7 WHERE appspace_id = ? AND day = '2026-03-04' AND with_flagged = 0", [space.id]);
    expect(await cartsOf("2026-03-01", "2026-03-10", false, true)).toMatchObject({ completedCarts: all.completedCarts + 7, abandonedCarts: all.abandonedCarts });
    // So are the pairs of days that carts spanning them change, within the range only.
    const [pair] = await h.db.query("SELECT day_from, day_to FROM rollup_cart_pairs WHERE appspace_id = ? AND with_flagged = 0 ORDER BY day_from, day_to DESC LIMIT 1", [space.id]);
    expect(pair.day_to > pair.day_from).toBe(true);
    await h.db.query("UPDATE rollup_cart_pairs SET abandoned = abandoned + 3 WHERE appspace_id = ? AND with_flagged = 0 AND day_from = ? AND day_to = ?", [space.id, pair.day_from, pair.day_to]);
    expect(await cartsOf("2026-03-01", "2026-03-10", false, true)).toMatchObject({ completedCarts: all.completedCarts + 7, abandonedCarts: all.abandonedCarts + 3 });
    const before = await cartsOf(pair.day_from, addDays(pair.day_to, -1), false, false);
    expect(await cartsOf(pair.day_from, addDays(pair.day_to, -1), false, true)).toMatchObject({ abandonedCarts: before.abandonedCarts });
  });

  it("counts a cart read through its person's later purchase with every day of it, also the day of a purchase carrying its cartId", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const send = async (events: object[]) => expect((await h.gql(TRACK_EVENTS, { events }, other.secretKey)).body.data!.trackEvents).toMatchObject({ accepted: events.length });
    // zed's cart k-1 is bought on the 2nd by someone else carrying its cartId (that day's row of k-1 names no person)...
    await send([
      { eventType: "ADD_TO_CART", userId: "zed", cartId: "k-1", timestamp: "2026-03-01T10:00:00Z", items: [{ itemId: "a", price: 5 }] },
      { eventType: "PURCHASE", userId: "yve", cartId: "k-1", transactionId: "k-o1", revenue: 5, timestamp: "2026-03-02T10:00:00Z" },
    ]);
    await refreshRollups(h.db, { waitSeconds: 10 });
    // ...and zed buys without a cartId on the 6th, a stale day: his cart is read through him, and must be read whole.
    await send([{ eventType: "PURCHASE", userId: "zed", transactionId: "k-o2", revenue: 5, timestamp: "2026-03-06T10:00:00Z" }]);
    const scope: ReportScope = { db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-10"), includeFlagged: false };
    const expected = { completedCarts: 1, abandonedCarts: 0, abandonedValue: 0, abandonmentRate: 0, openCarts: 0 };
    expect(await cartTotals({ ...scope, rollups: false })).toEqual(expected);
    expect(await cartTotals(scope)).toEqual(expected);
  });

  it("counts carts that share a key hash with a cart read for its other days as they stand alone", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    // Two cartIds whose 24-bit hashes collide (among 20,000, a dozen pairs are expected).
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let n = 0; !pair && n < 20_000; n++) {
      const cartId = `col-${n}`;
      const earlier = seen.get(keyHash("c", cartId));
      if (earlier) pair = [earlier, cartId];
      else seen.set(keyHash("c", cartId), cartId);
    }
    expect(pair).not.toBeNull();
    const [spanning, alone] = pair!;
    const item = (price: number, quantity: number) => ({ items: [{ itemId: "sku-x", price, quantity }] });
    const events = [
      // `spanning` is added to on the 2nd and bought on the 3rd (read for both days); `alone`, added to on the 3rd, is left.
      { eventType: "ADD_TO_CART", anonymousId: "a-x", cartId: spanning, timestamp: "2026-03-02T10:00:00Z", ...item(4, 1) },
      { eventType: "PURCHASE", anonymousId: "a-x", cartId: spanning, transactionId: "x-1", timestamp: "2026-03-03T10:00:00Z", revenue: 4 },
      { eventType: "ADD_TO_CART", anonymousId: "a-y", cartId: alone, timestamp: "2026-03-03T11:00:00Z", ...item(5, 2) },
    ];
    expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length });
    await refreshRollups(h.db, { waitSeconds: 10 });
    const scope: ReportScope = { db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-05"), includeFlagged: false };
    const expected = { completedCarts: 1, abandonedCarts: 1, abandonedValue: 1000, abandonmentRate: 50, openCarts: 0 };
    expect(await cartTotals({ ...scope, rollups: false })).toEqual(expected);
    expect(await cartTotals(scope)).toEqual(expected);
  });

  it("reads a day's events a page at a time, in order, each instant whole", async () => {
    const other = await h.appspace({ currency: "EUR" });
    // Three events at 10:00 (a purchase sent before two adds), one at 10:01, two at 10:02, one the next day.
    const at = (t: string) => `2026-03-09T${t}Z`;
    const events = [
      { eventType: "PURCHASE", userId: "p", transactionId: "pg-1", timestamp: at("10:00:00"), revenue: 5 },
      { eventType: "ADD_TO_CART", userId: "p", timestamp: at("10:00:00"), items: [{ itemId: "a", price: 1 }] },
      { eventType: "ADD_TO_CART", userId: "q", timestamp: at("10:00:00"), items: [{ itemId: "b", price: 2 }, { itemId: "c", price: 3 }] },
      { eventType: "VIEW_ITEM", userId: "q", timestamp: at("10:01:00"), items: [{ itemId: "b", price: 2 }] },
      { eventType: "VIEW_ITEM", userId: "p", timestamp: at("10:02:00"), items: [{ itemId: "a", price: 1 }] },
      { eventType: "REMOVE_FROM_CART", userId: "p", timestamp: at("10:02:00"), items: [{ itemId: "a", price: 1 }] },
      { eventType: "VIEW_ITEM", userId: "p", timestamp: "2026-03-10T00:00:00Z", items: [{ itemId: "a", price: 1 }] },
    ];
    expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: events.length });
    const read = async (pageSize: number) => {
      const pages: DayEvent[][] = [];
      await eachDayEvents(h.db, other.appspaceId, ["2026-03-09"], null, page => pages.push(page), { pageSize });
      return pages;
    };
    const whole = await read(100);
    expect(whole).toHaveLength(1);
    // Adds before the purchase of the same instant; lines of cart events only.
    expect(whole[0].map(e => [e.type, new Date(e.at).toISOString().slice(11, 16), e.lines.map(l => l.itemId).join("")])).toEqual([
      ["ADD_TO_CART", "10:00", "a"], ["ADD_TO_CART", "10:00", "bc"], ["PURCHASE", "10:00", ""],
      ["VIEW_ITEM", "10:01", ""], ["VIEW_ITEM", "10:02", ""], ["REMOVE_FROM_CART", "10:02", "a"],
    ]);
    for (const size of [1, 2, 3, 4]) {
      const pages = await read(size);
      expect(pages.flat().map(e => e.id)).toEqual(whole[0].map(e => e.id));
      const instants = pages.map(page => new Set(page.map(e => e.at)));
      // No instant is split over two pages.
      instants.forEach((set, i) => instants.slice(i + 1).forEach(later => set.forEach(t => expect(later.has(t)).toBe(false))));
    }
    // In parts: each event is read for the part of its person (and of its cartId); together the parts take every event in once.
    const parts = await Promise.all([0, 1, 2].map(async index => {
      const got: DayEvent[] = [];
      await eachDayEvents(h.db, other.appspaceId, ["2026-03-09"], null, page => got.push(...page.filter(e => e.ofPerson)), { part: { index, of: 3 }, pageSize: 2 });
      return got.map(e => e.id);
    }));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(whole[0].map(e => e.id).sort((a, b) => a - b));
    expect(parts.filter(ids => ids.length > 0).length).toBeGreaterThan(1); // "p" and "q" fall in different parts
  });

  it("tells channels apart as the database compares text: MariaDB's utf8mb4_bin ignores trailing spaces, SQLite does not", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const campaign = (value: string) => [{ key: "campaign", value }];
    const events = [
      { eventType: "VIEW_ITEM", userId: "alice", timestamp: "2026-03-09T10:00:00Z", properties: campaign("sale"), items: [{ itemId: "a", price: 1 }] },
      { eventType: "VIEW_ITEM", userId: "bob", timestamp: "2026-03-09T10:01:00Z", properties: campaign("sale"), items: [{ itemId: "a", price: 1 }] },
      // On another day: a day holding both spellings of one person in rows keyed by person (here their purchases: the
      // cohorts' rows) cannot be rolled up on MariaDB, where they are one key.
      { eventType: "PURCHASE", userId: "bob ", transactionId: "t-1", revenue: 10, timestamp: "2026-03-10T10:02:00Z", properties: campaign("sale ") },
    ];
    expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ accepted: 3 });
    const channels = (rollups: boolean) => revenueByChannel({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: false, rollups });
    // SQLite: "sale " is a channel of its own, met by "bob " only. MariaDB: one channel, met by alice and bob ("bob " is bob).
    const expected = target.name === "sqlite"
      ? [{ campaign: "sale ", source: null, medium: null, revenue: 10, orders: 1, conversionRate: 100 }]
      : [{ campaign: expect.stringMatching(/^sale ?$/), source: null, medium: null, revenue: 10, orders: 1, conversionRate: 50 }];
    expect(await channels(false)).toEqual(expected);
    expect(await channels(true)).toEqual(expected); // the day is stale: read raw
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_dirty", "appspace_id = ?", [space.id])).toBe(0);
    expect(await channels(true)).toEqual(expected);
  });

  it("counts a person once in the funnel when MariaDB takes two spellings of them for one (trailing spaces), on one day and in parts", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    // "eva" and "eva " end in characters of different parts ('a' is 97, ' ' is 32); an add with a cartId leaves no person row of carts.
    const events = [
      { eventType: "VIEW_ITEM", userId: "eva", timestamp: "2026-03-11T10:00:00Z", items: [{ itemId: "a", price: 1 }] },
      { eventType: "VIEW_ITEM", userId: "eva ", timestamp: "2026-03-11T10:01:00Z", items: [{ itemId: "a", price: 1 }] },
      { eventType: "ADD_TO_CART", userId: "eva ", cartId: "c-eva", timestamp: "2026-03-11T10:02:00Z", items: [{ itemId: "a", price: 1 }] },
    ];
    expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ accepted: 3 });
    const funnel = async (rollups: boolean) => (await funnelCounts({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: false, rollups })).map(s => s.count);
    // SQLite: two people, one of whom added to a cart. MariaDB: one person who did both.
    const expected = target.name === "sqlite" ? [2, 1, 0, 0, 0, 0] : [1, 1, 0, 0, 0, 0];
    expect(await funnel(false)).toEqual(expected);
    expect(await funnel(true)).toEqual(expected); // the day is stale: read raw
    await refreshRollups(h.db, { waitSeconds: 10, partEvents: 1 });
    expect(await h.count("rollup_dirty", "appspace_id = ?", [space.id])).toBe(0);
    expect(await funnel(true)).toEqual(expected);
  });

  it("counts carts of people and cartIds that MariaDB takes for one (trailing spaces) as raw events do, on one day and in parts", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const add = (userId: string, at: string, price: number, cartId?: string) =>
      ({ eventType: "ADD_TO_CART", userId, timestamp: `2026-03-${at}Z`, ...(cartId ? { cartId } : {}), items: [{ itemId: `i-${price}`, price, quantity: 1 }] });
    const buy = (userId: string, at: string, transactionId: string, cartId?: string) =>
      ({ eventType: "PURCHASE", userId, timestamp: `2026-03-${at}Z`, transactionId, revenue: 1, ...(cartId ? { cartId } : {}) });
    // "eva" and "eva " (and cartIds "k" and "k ") end in characters of different parts ('a' is 97, 'k' 107, ' ' 32).
    const events = [
      add("eva", "11T10:00:00", 1), buy("eva ", "12T10:00:00", "e-1"),
      add("eva ", "13T10:00:00", 7, "c-eva"), buy("eva", "14T10:00:00", "e-2"),
      add("eva", "15T10:00:00", 2), add("eva ", "15T11:00:00", 5),
      add("kim", "16T10:00:00", 3, "k"), add("kim", "16T11:00:00", 4, "k "), buy("kim", "17T10:00:00", "k-1", "k "),
    ];
    expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ accepted: events.length });
    const carts = (rollups: boolean) => cartTotals({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: false, rollups });
    // SQLite: eva's run of the 11th ends with her purchase of the 14th, her run of the 15th is left (2); "eva "'s cart c-eva (7) and
    // run of the 15th (5) are left; cart "k" (3) is left, "k " bought. MariaDB: one eva, whose purchases of the 12th and 14th end her
    // run of the 11th and complete c-eva, and whose run of the 15th (2 + 5) is left; one cart k, bought.
    const expected = target.name === "sqlite"
      ? { completedCarts: 2, abandonedCarts: 4, abandonedValue: 1700, abandonmentRate: 66.7, openCarts: 0 }
      : { completedCarts: 3, abandonedCarts: 1, abandonedValue: 700, abandonmentRate: 25, openCarts: 0 };
    expect(await carts(false)).toEqual(expected);
    expect(await carts(true)).toEqual(expected); // stale days: read raw
    await refreshRollups(h.db, { waitSeconds: 10, partEvents: 1 });
    expect(await h.count("rollup_dirty", "appspace_id = ?", [space.id])).toBe(0);
    expect(await carts(true)).toEqual(expected);
  });

  it("refreshes an appspace's day only between a deletion's transactions, so that it cannot write back what one removed", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const view = { eventType: "VIEW_ITEM", userId: "gone", timestamp: "2026-03-12T10:00:00Z", items: [{ itemId: "a", price: 1 }] };
    expect((await h.gql(TRACK_EVENTS, { events: [view] }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ accepted: 1 });
    let refreshed: number | null = null;
    await withTransaction(h.db, async em => {
      await lockPeopleRollups(em, other.appspaceId, true);
      void refreshRollups(h.db, { waitSeconds: 10 }).then(n => (refreshed = n));
      await new Promise(r => setTimeout(r, 300));
      expect(refreshed).toBeNull();
      // As a deletion does: the events go, their day is marked, what the rollups hold of the person goes.
      await em.query("DELETE FROM events WHERE appspace_id = ? AND user_id = 'gone'", [other.appspaceId]);
      await forgetInRollups(em, READ_MODELS, other.appspaceId, ["gone"], null);
    });
    for (let tries = 0; refreshed === null && tries < 200; tries++) await new Promise(r => setTimeout(r, 25));
    expect(refreshed).toBe(1);
    // The day was recomputed from what the deletion left: no number of the person.
    expect(await h.count("rollup_people", "appspace_id = ?", [other.appspaceId])).toBe(0);
  });

  it("stops mid-day when told to (a shutdown): the day's work is rolled back and it stays stale for the next refresh", async () => {
    const other = await h.appspace({ currency: "EUR" });
    await refreshRollups(h.db, { waitSeconds: 10 });
    const events = ["a", "b", "c"].map(userId => ({ eventType: "PURCHASE", userId, transactionId: `stop-${userId}`, revenue: 4, timestamp: "2026-03-15T10:00:00Z" }));
    expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ accepted: 3 });
    h.sql.reset();
    // Told to stop once the day's refresh has begun (its first statement deletes the day's marks).
    const begun = () => h.sql.statements.some(q => q.startsWith("DELETE FROM rollup_dirty WHERE appspace_id = ? AND day = ?"));
    expect(await refreshRollups(h.db, { waitSeconds: 10, stopping: begun })).toBe(0);
    expect(await h.count("rollup_dirty", "appspace_id = ? AND day = '2026-03-15'", [other.appspaceId])).toBeGreaterThan(0);
    expect(await h.count("rollup_sales", "appspace_id = ?", [other.appspaceId])).toBe(0);
    expect(await refreshRollups(h.db, { waitSeconds: 10 })).toBe(1);
    expect(await h.count("rollup_dirty", "appspace_id = ?", [other.appspaceId])).toBe(0);
    expect(await h.count("rollup_sales", "appspace_id = ? AND grain = 'total'", [other.appspaceId])).toBe(1);
  });

  it("leaves a day it cannot recompute stale, and refreshes the others", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const view = (userId: string, day: string) => ({ eventType: "VIEW_ITEM", userId, timestamp: `${day}T10:00:00Z`, items: [{ itemId: "sku", price: 1 }] });
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect((await h.gql(TRACK_EVENTS, { events: [view("boom", "2026-03-11"), view("fine", "2026-03-12")] }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ accepted: 2 });
    // The funnel sets of the day of "boom" cannot be written.
    await h.db.query(target.name === "sqlite"
      ? "CREATE TRIGGER no_boom BEFORE INSERT ON rollup_funnel_sets WHEN NEW.day = '2026-03-11' BEGIN SELECT RAISE(ABORT, 'no boom'); END"
      : "CREATE TRIGGER no_boom BEFORE INSERT ON rollup_funnel_sets FOR EACH ROW BEGIN IF NEW.day = '2026-03-11' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no boom'; END IF; END");
    const logged = captureLogs();
    try {
      expect(await refreshRollups(h.db, { waitSeconds: 10 })).toBe(1);
      // Its code and statement shape (a driver's message may quote values).
      expect(logged()).toEqual([expect.objectContaining({
        level: "error", scope: "rollups", msg: "day not refreshed", appspace: space.id, day: "2026-03-11",
        error: `code=${target.name === "sqlite" ? "SQLITE_CONSTRAINT_TRIGGER" : "ER_SIGNAL_EXCEPTION errno=1644"} ` +
          'statement="INSERT INTO rollup_funnel_sets (appspace_id, day, with_flagged, from_step, to_step, people) VALUES (?, ?, ?, ?, ?, ?) x2"',
      })]);
    } finally {
      logged();
      await h.db.query("DROP TRIGGER no_boom");
    }
    const marked = await h.db.query("SELECT DISTINCT day FROM rollup_dirty WHERE appspace_id = ?", [space.id]);
    expect(marked.map((r: { day: string }) => r.day)).toEqual(["2026-03-11"]);
    const funnel = (rollups: boolean) => funnelCounts({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-31"), includeFlagged: false, rollups });
    expect((await funnel(true))[0].count).toBe(2);
    expect(await funnel(true)).toEqual(await funnel(false));
    expect(await refreshRollups(h.db, { waitSeconds: 10 })).toBe(1);
    expect(await h.count("rollup_dirty", "appspace_id = ?", [space.id])).toBe(0);
    expect(await funnel(true)).toEqual(await funnel(false));
  });
  // Last: the migration's revert and rerun empty every appspace's carts.
  it("counts carts and the funnel as raw events do after the pairs' migration is reverted and run again", async () => {
    const other = await h.appspace({ currency: "EUR" });
    const space = await h.db.getRepository(Appspace).findOneByOrFail({ id: other.appspaceId });
    const add = (cartId: string, day: string) => ({ eventType: "ADD_TO_CART", userId: "m", cartId, timestamp: `${day}T10:00:00Z`, items: [{ itemId: "sku", price: 3, quantity: 2 }] });
    const events = [add("m-1", "2026-03-02"), add("m-1", "2026-03-04"), add("m-2", "2026-03-03"),
      { eventType: "PURCHASE", userId: "m", transactionId: "m-o", timestamp: "2026-03-05T10:00:00Z", revenue: 6 },
      { eventType: "VIEW_ITEM", userId: "m", timestamp: "2026-03-01T10:00:00Z", items: [{ itemId: "sku", price: 3 }] }];
    expect((await h.gql(TRACK_EVENTS, { events }, other.publishableKey)).body.data!.trackEvents).toMatchObject({ ok: true, accepted: 5 });
    await refreshRollups(h.db, { waitSeconds: 10 });
    const carts = (rollups: boolean) => cartTotals({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-04"), includeFlagged: false, rollups });
    // m-1 spans the 2nd and the 4th: one cart, left with 4 units; the purchase on the 5th completes m-1, added to last.
    const expected = { completedCarts: 0, abandonedCarts: 2, abandonedValue: 1800, abandonmentRate: 100, openCarts: 0 };
    expect(await carts(false)).toEqual(expected);
    expect(await h.count("rollup_cart_pairs", "appspace_id = ?", [space.id])).toBeGreaterThan(0);
    expect(await carts(true)).toEqual(expected);

    // The migrations since RollupPairs, then RollupPairs.
    const since = migrations.filter(m => Number(/\d+$/.exec(m.name)![0]) >= 1768348800000).length;
    for (let undo = 0; undo < since; undo++) await h.db.undoLastMigration({ transaction: "each" });
    const runner = h.db.createQueryRunner();
    for (const table of ["rollup_cart_pairs", "rollup_funnel_pairs", "rollup_funnel_people"]) expect(await runner.hasTable(table)).toBe(false);
    await runner.release();
    await h.db.runMigrations({ transaction: "each" });
    expect(await h.count("rollup_cart_pairs")).toBe(0);
    expect(await h.count("rollup_carts")).toBe(0);
    expect(await h.count("rollup_dirty", "appspace_id = ? AND day = '2026-03-04'", [space.id])).toBeGreaterThan(0);
    expect(await carts(true)).toEqual(expected);
    await refreshRollups(h.db, { waitSeconds: 10 });
    expect(await h.count("rollup_cart_pairs", "appspace_id = ?", [space.id])).toBeGreaterThan(0);
    expect(await carts(true)).toEqual(expected);
    expect(await cartTotals({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-05"), includeFlagged: false })).toMatchObject({ completedCarts: 1, abandonedCarts: 1, abandonedValue: 600 });
    const funnel = await funnelCounts({ db: h.db, appspace: space, period: periodOf("2026-03-01", "2026-03-05"), includeFlagged: false });
    // A view on the 1st, then adds: two steps, over two days.
    expect(funnel.map(s => s.count)).toEqual([1, 1, 0, 0, 0, 0]);
    expect(await h.count("rollup_funnel_pairs", "appspace_id = ? AND day_from < day_to", [space.id])).toBeGreaterThan(0);
  });
});
