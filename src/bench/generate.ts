import { DataSource } from "typeorm";
import { IdAllocator } from "../db/id-allocator";
import { dbTime, isMysql, multiRowInsert, Row, withTransaction } from "../db/sql";
import { linkPersons } from "../identity/persons";
import { EVENT_COLUMNS, ITEM_COLUMNS } from "../events/columns";
import { markChangedDays, markPeopleDays } from "../rollups/marks";

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

// Sent currency, units of EUR (the generated appspace's base) per unit, minor digits.
const CURRENCIES: [string, number, number][] = [["EUR", 1, 2], ["EUR", 1, 2], ["USD", 0.8, 2], ["GBP", 1.15, 2], ["JPY", 0.0055, 0]];
const CHANNELS: [string | null, string | null, string | null][] = [
  [null, null, null], [null, null, null], [null, "google", "cpc"], ["spring", "newsletter", "email"], ["retarget", "facebook", "social"], [null, "bing", "organic"],
];
const COUPONS = [null, null, null, "SAVE10", "WELCOME", "VIP"];
const DEVICES: [string, string][] = [["mobile", "ios"], ["mobile", "android"], ["desktop", "web"], ["tablet", "ios"]];
const COUNTRIES = ["DE", "FR", "US", "GB", "ES", "IT", "NL", "JP"];
const PRODUCTS = 2000;
/** SQLite binds at most 32766 values per statement. */
const MAX_BOUND_VALUES = 30_000;

export interface GenerateOptions {
  /** About this many events are written. */
  events: number;
  seed?: number;
  /** Spread over this many days up to `end`. */
  days?: number;
  end?: Date;
  /** Events per transaction (direct writes). */
  batch?: number;
}

export interface Generated {
  events: number;
  items: number;
  people: number;
}

interface Line {
  itemId: string;
  /** Minor units of the event's currency. */
  price: number;
  quantity: number;
}

/** One generated event, in the terms of the API (amounts in minor units of `currency`). */
export interface GeneratedEvent {
  type: string;
  at: number;
  userId: string | null;
  anonymousId: string;
  sessionId: string;
  cartId: string | null;
  transactionId: string | null;
  revenue: number | null;
  discount: number | null;
  coupon: string | null;
  currency: [code: string, eurPerUnit: number, digits: number];
  channel: [campaign: string | null, source: string | null, medium: string | null];
  device: [deviceType: string, platform: string];
  country: string;
  items: Line[];
}

/**
 * A realistic, deterministic mix of sessions: views, carts (with removals),
 * checkouts, purchases of 1-5 items in several currencies, refunds, cancellations
 * and searches, over `days` days, by people who start anonymous and often log in.
 * Yields each person's events.
 */
export function* sessions(opts: GenerateOptions): Generator<GeneratedEvent[]> {
  const rand = prng(opts.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const days = opts.days ?? 400;
  const end = (opts.end ?? new Date()).getTime();
  let events = 0;
  let order = 0;
  for (let person = 0; events < opts.events; person++) {
    const out: GeneratedEvent[] = [];
    const anonymousId = `anon-${opts.seed ?? 42}-${person}`;
    const userId = rand() < 0.6 ? `user-${opts.seed ?? 42}-${person}` : null;
    const device = pick(DEVICES);
    const country = pick(COUNTRIES);
    const sessionCount = 1 + Math.floor(rand() * 3);
    for (let s = 0; s < sessionCount && events + out.length < opts.events; s++) {
      let at = end - Math.floor(rand() * days * 86_400_000);
      const channel = pick(CHANNELS);
      const loggedIn = userId !== null && s > 0;
      const cartId = rand() < 0.3 ? `cart-${person}-${s}` : null;
      const currency = pick(CURRENCIES);
      const digits = currency[2];
      const basket: Line[] = [];
      const event = (type: string, extra: Partial<GeneratedEvent> = {}) => {
        at += 1000 + Math.floor(rand() * 120_000);
        out.push({
          type, at: Math.min(at, end), userId: loggedIn || (type === "PURCHASE" && userId) ? userId : null, anonymousId, sessionId: `s-${person}-${s}`,
          cartId, transactionId: null, revenue: null, discount: null, coupon: null, currency, channel, device, country, items: [], ...extra,
        });
      };
      const product = () => {
        const n = Math.floor(rand() ** 2 * PRODUCTS);
        return { itemId: `sku-${n}`, price: digits === 2 ? 500 + (n % 50) * 100 : (5 + (n % 50)) * 150 };
      };
      const views = 1 + Math.floor(rand() * 4);
      for (let v = 0; v < views; v++) event("VIEW_ITEM", { items: [{ ...product(), quantity: 1 }] });
      if (rand() < 0.2) event("SEARCH");
      if (rand() < 0.45) {
        const count = 1 + Math.floor(rand() * 5);
        for (let i = 0; i < count; i++) basket.push({ ...product(), quantity: 1 + Math.floor(rand() * 2) });
        event("ADD_TO_CART", { items: [...basket] });
        if (rand() < 0.15 && basket.length > 1) event("REMOVE_FROM_CART", { items: [basket.pop()!] });
        event("VIEW_CART");
        if (rand() < 0.6) {
          event("BEGIN_CHECKOUT");
          if (rand() < 0.8) event("ADD_PAYMENT_INFO");
          if (rand() < 0.7) {
            const transactionId = `o-${opts.seed ?? 42}-${order++}`;
            const revenue = basket.reduce((sum, it) => sum + it.price * it.quantity, 0);
            const coupon = pick(COUPONS);
            const discount = coupon ? Math.round(revenue / 10) : null;
            event("PURCHASE", { transactionId, revenue: revenue - (discount ?? 0), discount, coupon, items: [...basket] });
            const after = rand();
            if (after < 0.05) event("REFUND", { transactionId, revenue: Math.round(revenue / 2) });
            else if (after < 0.07) event("CANCEL", { transactionId });
          }
        }
      }
    }
    events += out.length;
    yield out;
  }
}

/**
 * Writes the sessions straight into the tables, many rows per INSERT, as ingest
 * would store them (amounts converted at the generator's fixed rates), with the
 * identity links, people, catalog and rollup marks. For large volumes.
 */
export async function generate(db: DataSource, appspaceId: number, opts: GenerateOptions): Promise<Generated> {
  const batch = opts.batch ?? 2000;
  const ids = new IdAllocator(db, "events");
  const received = dbTime(opts.end ?? new Date());
  const total: Generated = { events: 0, items: 0, people: 0 };
  let pending: GeneratedEvent[] = [];

  const flush = async () => {
    if (!pending.length) return;
    const evs = pending;
    pending = [];
    const rowIds = await ids.take(evs.length);
    const events: Row[] = [];
    const items: Row[] = [];
    const links = new Map<string, string>();
    evs.forEach((e, n) => {
      const [code, rate, digits] = e.currency;
      const base = (minor: number | null) => (minor === null ? null : Math.round(minor * rate * 10 ** (2 - digits)));
      events.push([
        rowIds[n], appspaceId, null, e.type, dbTime(new Date(e.at)), received, e.transactionId, e.userId, e.anonymousId, e.sessionId, e.cartId, e.coupon,
        base(e.revenue), base(e.discount), null, null, code, e.revenue, e.discount, null, null, String(rate), "2026-01-01",
        ...e.channel, ...e.device, "Safari", e.country, null, "en-US", null, null, null, null, null,
      ]);
      e.items.forEach((it, line) => items.push([
        rowIds[n], line, appspaceId, it.itemId, `Product ${it.itemId}`, `cat-${it.itemId.length % 7}`, `brand-${it.itemId.length % 5}`, null, null, null, null,
        it.quantity, base(it.price), null, code, it.price, null, String(rate), null, null, null,
      ]));
      if (e.userId !== null) links.set(e.anonymousId, e.userId);
    });
    total.items += items.length;
    await withTransaction(db, async em => {
      for (const [table, columns, rows] of [["events", EVENT_COLUMNS, events], ["event_items", ITEM_COLUMNS, items]] as const) {
        const size = Math.floor(MAX_BOUND_VALUES / columns.length);
        for (let i = 0; i < rows.length; i += size) await em.query(...multiRowInsert(table, columns, rows.slice(i, i + size)));
      }
      await markChangedDays(em, appspaceId, evs.map(e => ({
        type: e.type, day: new Date(e.at).toISOString().slice(0, 10), transactionId: e.transactionId, tagged: e.channel.some(v => v !== null),
      })));
      if (links.size) {
        const rows = [...links].map(([identifier, userId]) => [appspaceId, identifier, userId, "anonymous", received]);
        const tail = isMysql(em) ? "ON DUPLICATE KEY UPDATE kind = kind" : "ON CONFLICT DO NOTHING";
        await em.query(...multiRowInsert("identity_links", ["appspace_id", "identifier", "user_id", "kind", "first_seen_at"], rows, tail));
        await markPeopleDays(em, appspaceId, await linkPersons(em, appspaceId, [...links]));
      }
    });
  };

  for (const person of sessions(opts)) {
    total.people++;
    total.events += person.length;
    pending.push(...person);
    if (pending.length >= batch) await flush();
  }
  await flush();
  const catalog = Array.from({ length: PRODUCTS }, (_, n) => [appspaceId, `sku-${n}`, `Product sku-${n}`, `cat-${n % 7}`, `brand-${n % 5}`, null, null, null, received]);
  const tail = isMysql(db) ? "ON DUPLICATE KEY UPDATE name = VALUES(name)" : "ON CONFLICT (appspace_id, item_id) DO UPDATE SET name = excluded.name";
  for (let i = 0; i < catalog.length; i += batch) {
    await db.query(...multiRowInsert("products", ["appspace_id", "item_id", "name", "category", "brand", "variant", "group_id", "image_url", "last_seen_at"], catalog.slice(i, i + batch), tail));
  }
  return total;
}

/** A generated event as a trackEvents input. */
export function toEventInput(e: GeneratedEvent): Record<string, unknown> {
  const [code, , digits] = e.currency;
  const major = (minor: number | null) => (minor === null ? undefined : minor / 10 ** digits);
  const [campaign, source, medium] = e.channel;
  const properties = Object.entries({ campaign, source, medium }).filter(([, v]) => v !== null).map(([key, value]) => ({ key, value }));
  return {
    eventType: e.type, timestamp: new Date(e.at).toISOString(), userId: e.userId ?? undefined, anonymousId: e.anonymousId, sessionId: e.sessionId,
    cartId: e.cartId ?? undefined, transactionId: e.transactionId ?? undefined, revenue: major(e.revenue), discount: major(e.discount),
    couponCode: e.coupon ?? undefined, currency: code, properties,
    context: { deviceType: e.device[0], platform: e.device[1], country: e.country, locale: "en-US" },
    items: e.items.length
      ? e.items.map(it => ({ itemId: it.itemId, itemName: `Product ${it.itemId}`, itemCategory: `cat-${it.itemId.length % 7}`, itemBrand: `brand-${it.itemId.length % 5}`, price: major(it.price), quantity: it.quantity }))
      : undefined,
  };
}

const TRACK_EVENTS = "mutation ($events: [EventInput!]!) { trackEvents(events: $events) { accepted errors { index code message } } }";

/**
 * Sends the same sessions through the GraphQL API, in batches of up to 100 events; the server converts and stores
 * them. With the secret key, as a shop's server would: from a publishable key (a browser), the purchases of thousands
 * of people from one address would trip the velocity rule.
 */
export async function replay(url: string, key: string, opts: GenerateOptions & { concurrency?: number }): Promise<Generated> {
  const total: Generated = { events: 0, items: 0, people: 0 };
  const batches: GeneratedEvent[][] = [[]];
  for (const person of sessions(opts)) {
    total.people++;
    for (const e of person) {
      if (batches.at(-1)!.length === 100) batches.push([]);
      batches.at(-1)!.push(e);
      total.events++;
      total.items += e.items.length;
    }
  }
  let next = 0;
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, async () => {
    for (let b = next++; b < batches.length; b = next++) {
      const res = await fetch(url, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: TRACK_EVENTS, variables: { events: batches[b].map(toEventInput) } }),
      });
      const body = (await res.json()) as { data?: { trackEvents: { accepted: number; errors: unknown[] } }; errors?: unknown };
      if (!body.data || body.data.trackEvents.errors.length) throw new Error(`replay failed: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    }
  }));
  return total;
}
