import { queryRows, raw, sql } from "../db/query";
import { compareText, Db } from "../db/sql";
import { DayEvent, eachDayEvents } from "../rollups/day-events";

/*
 * Carts day by day, for the rollups: what a day did to each cart, stored per day
 * (rollup_carts) and folded over the days of a range in order. The rules are
 * those of cartTotals (cart-abandonment.service.ts): a cart is a cartId, or a
 * person's run of adds without one up to their next purchase.
 */

/**
 * An item of a cart: the units left, and its latest add-to-cart (time, event row and line, to order adds of
 * one instant, and price; time null when it was only removed). One flat array: a busy day holds one per
 * person or cart and item.
 */
type Line = [units: number, at: number | null, id: number, line: number, price: number | null];

/** Adds and removes of one cart: whether it has an add, and per item its line (a Map: item ids are any string, "__proto__" too). */
export interface Contents {
  adds: boolean;
  items: Map<string, Line>;
}

/** What a day did to a person's runs: its purchases split them (a run is done when a purchase follows it). */
export interface PersonDay {
  purchases: number;
  /** The latest purchase without a cartId (it completes the person's cartId carts started before it). */
  lastPlain: number | null;
  /** Before the day's first purchase (the whole day without one): continues the run open at its start. */
  lead: Contents;
  /** Runs between two of the day's purchases that hold an add: each a completed cart. */
  middle: number;
  /** After the day's last purchase: the run open at its end (null without a purchase). */
  trail: Contents | null;
}

/** What a day did to a cartId's cart. */
export interface CartDay {
  /** The smallest person of its adds; their purchases without a cartId complete it too. */
  person: string | null;
  firstAdd: number | null;
  /** The latest purchase carrying the cartId. */
  lastPurchase: number | null;
  contents: Contents;
}

export interface DaySummaries {
  people: Map<string, PersonDay>;
  carts: Map<string, CartDay>;
}

const empty = (): Contents => ({ adds: false, items: new Map() });

/** Whether the add (at, id, line) is later than the item's latest add. */
const isLater = (held: Line, at: number, id: number, line: number) =>
  held[1] === null || at > held[1] || (at === held[1] && (id > held[2] || (id === held[2] && line > held[3])));

/** Whether a sorts before b as the databases order text. */
const sortsBefore = (a: string, b: string) => compareText(a, b) < 0;

const maxOf = (a: number | null, b: number | null) => (a === null || b === null ? (a ?? b) : Math.max(a, b));

/** `into` with `more` added (units summed, the later add kept per item); neither is changed, and the result may share their items. */
export function merge(into: Contents, more: Contents): Contents {
  // Most runs and carts live on one day: nothing to add up.
  if (more.items.size === 0 || into.items.size === 0) return { adds: into.adds || more.adds, items: more.items.size === 0 ? into.items : more.items };
  const items = new Map(into.items);
  for (const [itemId, line] of more.items) {
    const held = items.get(itemId);
    if (!held) items.set(itemId, line);
    else {
      const latest = line[1] !== null && isLater(held, line[1], line[2], line[3]) ? line : held;
      items.set(itemId, [held[0] + line[0], latest[1], latest[2], latest[3], latest[4]]);
    }
  }
  return { adds: into.adds || more.adds, items };
}

function apply(contents: Contents, e: DayEvent): void {
  const add = e.type === "ADD_TO_CART";
  if (add) contents.adds = true;
  for (const l of e.lines) {
    const held = contents.items.get(l.itemId);
    if (!held) contents.items.set(l.itemId, add ? [l.quantity, e.at, e.id, l.line, l.price] : [-l.quantity, null, 0, 0, null]);
    else {
      held[0] += add ? l.quantity : -l.quantity;
      if (add && isLater(held, e.at, e.id, l.line)) [held[1], held[2], held[3], held[4]] = [e.at, e.id, l.line, l.price];
    }
  }
}

export const CART_TYPES: readonly string[] = ["ADD_TO_CART", "REMOVE_FROM_CART", "PURCHASE"];

/** Collects, a page of events at a time (in time order, of any days), what each day did to each person's runs and each cartId's cart. */
export class CartDays {
  readonly days = new Map<string, DaySummaries>();

  /** withFlagged: flagged events count too. */
  constructor(private readonly withFlagged: boolean) {}

  add(events: readonly DayEvent[]): void {
    for (const e of events) {
      if (!CART_TYPES.includes(e.type) || (e.flagged && !this.withFlagged)) continue;
      let summaries = this.days.get(e.day);
      if (!summaries) this.days.set(e.day, (summaries = { people: new Map(), carts: new Map() }));
      const { people, carts } = summaries;
      if (e.cartId !== null && e.ofCart) {
        let cart = carts.get(e.cartId);
        if (!cart) carts.set(e.cartId, (cart = { person: null, firstAdd: null, lastPurchase: null, contents: empty() }));
        if (e.type === "PURCHASE") cart.lastPurchase = maxOf(cart.lastPurchase, e.at);
        else {
          apply(cart.contents, e);
          if (e.type === "ADD_TO_CART") {
            cart.firstAdd ??= e.at;
            if (e.person !== null && (cart.person === null || sortsBefore(e.person, cart.person))) cart.person = e.person;
          }
        }
      }
      if (e.person === null || !e.ofPerson || (e.cartId !== null && e.type !== "PURCHASE")) continue;
      let day = people.get(e.person);
      if (!day) people.set(e.person, (day = { purchases: 0, lastPlain: null, lead: empty(), middle: 0, trail: null }));
      if (e.type === "PURCHASE") {
        if (e.cartId === null) day.lastPlain = maxOf(day.lastPlain, e.at);
        if (day.purchases > 0 && day.trail!.adds) day.middle++;
        day.purchases++;
        day.trail = empty();
      } else {
        apply(day.trail ?? day.lead, e);
      }
    }
  }
}

export interface CartCounts {
  completed: number;
  abandoned: number;
  /** Minor units: the units left of each abandoned cart's items, at their latest add-to-cart price. */
  abandonedValue: number;
}

/** Folds the days' summaries, oldest first, into the carts of the range and their outcomes. */
export function foldCarts(days: readonly DaySummaries[]): CartCounts {
  const open = new Map<string, Contents | null>();
  const lastPlain = new Map<string, number | null>();
  const carts = new Map<string, CartDay>();
  let completed = 0;
  for (const { people, carts: cartDays } of days) {
    for (const [person, day] of people) {
      lastPlain.set(person, maxOf(lastPlain.get(person) ?? null, day.lastPlain));
      const held = open.get(person);
      if (day.purchases === 0) {
        open.set(person, held ? merge(held, day.lead) : day.lead);
        continue;
      }
      // The run open at the day's start, continued by its lead, ends with the first purchase: what it holds no longer counts.
      if (held?.adds || day.lead.adds) completed++;
      completed += day.middle;
      open.set(person, day.trail);
    }
    for (const [cartId, day] of cartDays) {
      const held = carts.get(cartId);
      carts.set(cartId, held
        ? {
          person: held.person === null || (day.person !== null && sortsBefore(day.person, held.person)) ? day.person : held.person,
          firstAdd: held.firstAdd ?? day.firstAdd,
          lastPurchase: maxOf(held.lastPurchase, day.lastPurchase),
          contents: merge(held.contents, day.contents),
        }
        : day);
    }
  }
  let abandoned = 0;
  let abandonedValue = 0;
  const left = (contents: Contents) => {
    let units = 0;
    let value = 0;
    for (const [n, , , , price] of contents.items.values()) {
      if (n <= 0) continue;
      units += n;
      value += n * (price ?? 0);
    }
    if (units > 0) {
      abandoned++;
      abandonedValue += value;
    }
  };
  for (const run of open.values()) if (run?.adds) left(run);
  for (const cart of carts.values()) {
    if (!cart.contents.adds) continue;
    const personPaid = cart.person === null ? null : lastPlain.get(cart.person) ?? null;
    if ((cart.lastPurchase ?? -Infinity) >= cart.firstAdd! || (personPaid ?? -Infinity) >= cart.firstAdd!) completed++;
    else left(cart.contents);
  }
  return { completed, abandoned, abandonedValue };
}

/**
 * Contents as stored: [adds (1 or 0), then itemId, units, at, id, line, price for each item], flat: a month of a busy
 * appspace's carts is tens of thousands of rows, and JSON arrays of scalars parse fastest.
 */
type StoredContents = (string | number | null)[];

const storedContents = (c: Contents, withItems = true): StoredContents => {
  const out: StoredContents = [c.adds ? 1 : 0];
  if (withItems) for (const [itemId, line] of c.items) out.push(itemId, ...line);
  return out;
};

function contentsOf(stored: StoredContents): Contents {
  const items = new Map<string, Line>();
  for (let i = 1; i < stored.length; i += 6) {
    items.set(stored[i] as string, [stored[i + 1] as number, stored[i + 2] as number | null, stored[i + 3] as number, stored[i + 4] as number, stored[i + 5] as number | null]);
  }
  return { adds: stored[0] === 1, items };
}

/**
 * A day's summaries as rollup_carts rows: kind ("p": a person's runs, "c": a cartId's cart), key, and the JSON of each
 * variant ("p": [purchases, lastPlain, middle, lead, trail]; "c": [person, firstAdd, lastPurchase, contents]), without
 * what no fold reads: the items of a lead that a purchase ends (it only tells whether it has an add), and the items and
 * person of a cart a purchase carrying its cartId completed that day (whatever other days add to it, it is completed:
 * its first add can only be earlier, its latest purchase later).
 */
export function cartDayRows(clean: DaySummaries | undefined, all: DaySummaries | undefined): [kind: string, key: string, state: string | null, stateAll: string | null][] {
  const rows: [string, string, string | null, string | null][] = [];
  const person = (d: PersonDay | undefined) =>
    d ? JSON.stringify([d.purchases, d.lastPlain, d.middle, storedContents(d.lead, d.purchases === 0), d.trail && storedContents(d.trail)]) : null;
  const cart = (d: CartDay | undefined) => {
    if (!d) return null;
    const done = d.firstAdd !== null && d.lastPurchase !== null && d.lastPurchase >= d.firstAdd;
    return JSON.stringify([done ? null : d.person, d.firstAdd, d.lastPurchase, storedContents(d.contents, !done)]);
  };
  for (const key of all?.people.keys() ?? []) rows.push(["p", key, person(clean?.people.get(key)), person(all!.people.get(key))]);
  for (const key of all?.carts.keys() ?? []) rows.push(["c", key, cart(clean?.carts.get(key)), cart(all!.carts.get(key))]);
  return rows;
}

/** The days' summaries, oldest first: stored ones for clean days, computed from raw events for the stale ones. */
export async function cartDays(db: Db, appspaceId: number, days: readonly string[], stale: ReadonlySet<string>, withFlagged: boolean): Promise<DaySummaries[]> {
  const column = raw(withFlagged ? "state_all" : "state");
  const stored = await queryRows<{ day: string; kind: string; cart_key: string; state: string }>(db, sql`
    SELECT day, kind, cart_key, ${column} AS state FROM rollup_carts
    WHERE appspace_id = ${appspaceId} AND day >= ${days[0]} AND day <= ${days[days.length - 1]} AND ${column} IS NOT NULL`);
  const fresh = new CartDays(withFlagged);
  await eachDayEvents(db, appspaceId, days.filter(d => stale.has(d)), CART_TYPES, page => fresh.add(page));
  const summaries = new Map<string, DaySummaries>(days.map(d => [d, { people: new Map(), carts: new Map() }]));
  for (const r of stored) {
    if (stale.has(r.day)) continue;
    const day = summaries.get(r.day)!;
    if (r.kind === "p") {
      const [purchases, lastPlain, middle, lead, trail] = JSON.parse(r.state) as [number, number | null, number, StoredContents, StoredContents | null];
      day.people.set(r.cart_key, { purchases, lastPlain, middle, lead: contentsOf(lead), trail: trail && contentsOf(trail) });
    } else {
      const [person, firstAdd, lastPurchase, contents] = JSON.parse(r.state) as [string | null, number | null, number | null, StoredContents];
      day.carts.set(r.cart_key, { person, firstAdd, lastPurchase, contents: contentsOf(contents) });
    }
  }
  for (const day of days) if (stale.has(day)) summaries.set(day, fresh.days.get(day) ?? { people: new Map(), carts: new Map() });
  return days.map(d => summaries.get(d)!);
}
