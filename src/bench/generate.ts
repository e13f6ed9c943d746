import { DataSource } from "typeorm";
import { IdAllocator } from "../db/id-allocator";
import { dbTime, isMysql, multiRowInsert, Row, withTransaction } from "../db/sql";
import { linkPersons } from "../identity/persons";
import { markStale } from "../rollups/rollups";
import { EVENT_COLUMNS, ITEM_COLUMNS } from "../ingest/columns";

/** mulberry32: a small seeded PRNG, so a seed always yields the same dataset. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Sent currency -> units of EUR (the generated appspace's base) per unit, minor digits.
const CURRENCIES: [string, number, number][] = [["EUR", 1, 2], ["EUR", 1, 2], ["USD", 0.8, 2], ["GBP", 1.15, 2], ["JPY", 0.0055, 0]];
const CHANNELS: [string | null, string | null, string | null][] = [
  [null, null, null], [null, null, null], [null, "google", "cpc"], ["spring", "newsletter", "email"], ["retarget", "facebook", "social"], [null, "bing", "organic"],
];
const COUPONS = [null, null, null, "SAVE10", "WELCOME", "VIP"];
const DEVICES: [string, string][] = [["mobile", "ios"], ["mobile", "android"], ["desktop", "web"], ["tablet", "ios"]];
const COUNTRIES = ["DE", "FR", "US", "GB", "ES", "IT", "NL", "JP"];
const PRODUCTS = 2000;
const ROLLED_UP = new Set(["PURCHASE", "REFUND", "CANCEL"]);

export interface GenerateOptions {
  /** About this many events are written. */
  events: number;
  seed?: number;
  /** Spread over this many days up to `end`. */
  days?: number;
  end?: Date;
  /** Rows per INSERT. */
  batch?: number;
}

export interface Generated {
  events: number;
  items: number;
  people: number;
}

/**
 * Writes a realistic, deterministic mix of sessions straight into the tables:
 * views, carts (with removals), checkouts, purchases of 1-5 items in several
 * currencies, refunds, cancellations and searches, over `days` days, by people who
 * start anonymous and often log in (linked identities). Rows match what ingest writes.
 */
export async function generate(db: DataSource, appspaceId: number, opts: GenerateOptions): Promise<Generated> {
  const rand = prng(opts.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const days = opts.days ?? 400;
  const end = (opts.end ?? new Date()).getTime();
  const batch = opts.batch ?? 2000;
  const ids = new IdAllocator(db, "events");

  let events: Row[] = [];
  let items: Row[] = [];
  let links: [string, string][] = [];
  const total: Generated = { events: 0, items: 0, people: 0 };

  const flush = async () => {
    if (!events.length) return;
    const [evs, its, lks] = [events, items, links];
    events = [];
    items = [];
    links = [];
    await withTransaction(db, async em => {
      await em.query(...multiRowInsert("events", EVENT_COLUMNS, evs));
      // Orders in this batch are new, so only the days of its own purchases, refunds and cancels change.
      await markStale(em, appspaceId, evs.filter(r => ROLLED_UP.has(r[3] as string)).map(r => (r[4] as string).slice(0, 10)));
      for (let i = 0; i < its.length; i += batch) await em.query(...multiRowInsert("event_items", ITEM_COLUMNS, its.slice(i, i + batch)));
      if (lks.length) {
        const rows = lks.map(([identifier, userId]) => [appspaceId, identifier, userId, "anonymous", dbTime(new Date(end))]);
        const tail = isMysql(em) ? "ON DUPLICATE KEY UPDATE kind = kind" : "ON CONFLICT DO NOTHING";
        await em.query(...multiRowInsert("identity_links", ["appspace_id", "identifier", "user_id", "kind", "first_seen_at"], rows, tail));
        await linkPersons(em, appspaceId, lks);
      }
    });
  };

  let order = 0;
  while (total.events < opts.events) {
    const person = total.people++;
    const anonymousId = `anon-${person}`;
    const userId = rand() < 0.6 ? `user-${person}` : null;
    if (userId) links.push([anonymousId, userId]);
    const [deviceType, platform] = pick(DEVICES);
    const country = pick(COUNTRIES);
    const sessions = 1 + Math.floor(rand() * 3);
    for (let s = 0; s < sessions && total.events < opts.events; s++) {
      let at = end - Math.floor(rand() * days * 86_400_000);
      const [campaign, source, medium] = pick(CHANNELS);
      const loggedIn = userId !== null && s > 0;
      const cartId = rand() < 0.3 ? `cart-${person}-${s}` : null;
      const [currency, rate, digits] = pick(CURRENCIES);
      // Prices and amounts in minor units of the sent currency; base() converts them into EUR cents.
      const basket: { itemId: string; price: number; quantity: number }[] = [];
      const base = (minor: number | null) => (minor === null ? null : Math.round(minor * rate * 10 ** (2 - digits)));
      const row = (type: string, extra: { transactionId?: string; revenue?: number; discount?: number; coupon?: string | null } = {}) => {
        at += 1000 + Math.floor(rand() * 120_000);
        const id = 0; // set when the batch is written
        const revenue = extra.revenue ?? null;
        const discount = extra.discount ?? null;
        const r: Row = [
          id, appspaceId, null, type, dbTime(new Date(Math.min(at, end))), dbTime(new Date(end)), extra.transactionId ?? null,
          loggedIn || (type === "PURCHASE" && userId) ? userId : null, anonymousId, `s-${person}-${s}`, cartId, extra.coupon ?? null,
          base(revenue), base(discount), null, null, currency, revenue, discount, null, null, String(rate), "2026-01-01",
          campaign, source, medium, deviceType, platform, "Safari", country, null, "en-US", null, null, null, null, null,
        ];
        events.push(r);
        total.events++;
        return r;
      };
      const product = () => {
        const n = Math.floor(rand() ** 2 * PRODUCTS);
        return { itemId: `sku-${n}`, price: digits === 2 ? 500 + (n % 50) * 100 : (5 + (n % 50)) * 150 };
      };
      const lines = (r: Row, list: typeof basket) => list.forEach((it, line) => {
        items.push([r, line, appspaceId, it.itemId, `Product ${it.itemId}`, `cat-${it.itemId.length % 7}`, `brand-${it.itemId.length % 5}`, null, null, null, null,
          it.quantity, base(it.price), null, currency, it.price, null, String(rate), null, null, null]);
        total.items++;
      });
      const views = 1 + Math.floor(rand() * 4);
      for (let v = 0; v < views; v++) lines(row("VIEW_ITEM"), [{ ...product(), quantity: 1 }]);
      if (rand() < 0.2) row("SEARCH");
      if (rand() < 0.45) {
        const count = 1 + Math.floor(rand() * 5);
        for (let i = 0; i < count; i++) basket.push({ ...product(), quantity: 1 + Math.floor(rand() * 2) });
        lines(row("ADD_TO_CART"), basket);
        if (rand() < 0.15 && basket.length > 1) lines(row("REMOVE_FROM_CART"), [basket.pop()!]);
        row("VIEW_CART");
        if (rand() < 0.6) {
          row("BEGIN_CHECKOUT");
          if (rand() < 0.8) row("ADD_PAYMENT_INFO");
          if (rand() < 0.7) {
            const transactionId = `o-${appspaceId}-${order++}`;
            const revenue = basket.reduce((sum, it) => sum + it.price * it.quantity, 0);
            const coupon = pick(COUPONS);
            const discount = coupon ? Math.round(revenue / 10) : null;
            lines(row("PURCHASE", { transactionId, revenue: revenue - (discount ?? 0), discount: discount ?? undefined, coupon }), basket);
            const after = rand();
            if (after < 0.05) row("REFUND", { transactionId, revenue: Math.round(revenue / 2) });
            else if (after < 0.07) row("CANCEL", { transactionId });
          }
        }
      }
    }
    if (events.length >= batch) await assignIdsAndFlush();
  }
  await assignIdsAndFlush();
  const catalog = Array.from({ length: PRODUCTS }, (_, n) => [appspaceId, `sku-${n}`, `Product sku-${n}`, `cat-${n % 7}`, `brand-${n % 5}`, null, null, null, dbTime(new Date(end))]);
  const tail = isMysql(db) ? "ON DUPLICATE KEY UPDATE name = VALUES(name)" : "ON CONFLICT (appspace_id, item_id) DO UPDATE SET name = excluded.name";
  for (let i = 0; i < catalog.length; i += batch) {
    await db.query(...multiRowInsert("products", ["appspace_id", "item_id", "name", "category", "brand", "variant", "group_id", "image_url", "last_seen_at"], catalog.slice(i, i + batch), tail));
  }
  return total;

  async function assignIdsAndFlush() {
    const rowIds = await ids.take(events.length);
    events.forEach((r, i) => ((r as unknown[])[0] = rowIds[i]));
    // Items point at their event row until now.
    items = items.map(it => [((it[0] as unknown[])[0]), ...it.slice(1)]);
    await flush();
  }
}
