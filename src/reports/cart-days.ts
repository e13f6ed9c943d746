import { createHash } from "node:crypto";
import { RoaringBitmap32 } from "roaring";
import { joinSql, queryRows, raw, sql, Sql, valueList } from "../db/query";
import { compareText, Db, Row, toNumber } from "../db/sql";
import { DayEvent, eachDayEvents } from "../rollups/day-events";
import { emptySet, samePerson, setOf, storedSet } from "../rollups/people-sets";

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

  /** withFlagged: flagged events count too; people and cartIds are told apart as `same` says (samePerson: as the database does). */
  constructor(private readonly withFlagged: boolean, private readonly same: (person: string) => string) {}

  add(events: readonly DayEvent[]): void {
    for (const e of events) {
      if (!CART_TYPES.includes(e.type) || (e.flagged && !this.withFlagged)) continue;
      const [person, cartId] = [e.person === null ? null : this.same(e.person), e.cartId === null ? null : this.same(e.cartId)];
      let summaries = this.days.get(e.day);
      if (!summaries) this.days.set(e.day, (summaries = { people: new Map(), carts: new Map() }));
      const { people, carts } = summaries;
      if (cartId !== null && e.ofCart) {
        let cart = carts.get(cartId);
        if (!cart) carts.set(cartId, (cart = { person: null, firstAdd: null, lastPurchase: null, contents: empty() }));
        if (e.type === "PURCHASE") cart.lastPurchase = maxOf(cart.lastPurchase, e.at);
        else {
          apply(cart.contents, e);
          if (e.type === "ADD_TO_CART") {
            cart.firstAdd ??= e.at;
            if (person !== null && (cart.person === null || sortsBefore(person, cart.person))) cart.person = person;
          }
        }
      }
      if (person === null || !e.ofPerson || (e.cartId !== null && e.type !== "PURCHASE")) continue;
      let day = people.get(person);
      if (!day) people.set(person, (day = { purchases: 0, lastPlain: null, lead: empty(), middle: 0, trail: null }));
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
  /** Carts with units left whose last add came at or after the idle cutoff: not abandoned (yet). */
  open: number;
}

/**
 * Folds the days' summaries, oldest first, into the carts of the range and their outcomes. A cart not completed
 * whose last add is at or after `idleCutoff` (ms) is open, not abandoned; by default none is.
 */
export function foldCarts(days: readonly DaySummaries[], idleCutoff = Infinity): CartCounts {
  const fold = new CartFold();
  for (const day of days) fold.add(day);
  return fold.counts(idleCutoff);
}

/** Days' summaries folded oldest first: the carts so far, and what their outcomes would be were the range to end there. */
export class CartFold {
  private readonly open = new Map<string, Contents | null>();
  private readonly lastPlain = new Map<string, number | null>();
  private readonly carts = new Map<string, CartDay>();
  /** Runs a purchase ended. */
  private readonly ended = new Outcomes();

  add({ people, carts: cartDays }: DaySummaries): void {
    const { open, lastPlain, carts } = this;
    for (const [person, day] of people) {
      lastPlain.set(person, maxOf(lastPlain.get(person) ?? null, day.lastPlain));
      const held = open.get(person);
      if (day.purchases === 0) {
        open.set(person, held ? merge(held, day.lead) : day.lead);
        continue;
      }
      // The run open at the day's start, continued by its lead, ends with the first purchase: what it holds no longer counts.
      if (held?.adds || day.lead.adds) this.ended.completed++;
      this.ended.completed += day.middle;
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

  /** The outcomes of the carts folded so far (the summaries added are never changed: a fold can go on after). */
  counts(idleCutoff = Infinity): CartCounts {
    const out = new Outcomes();
    out.add(this.ended.counts());
    for (const run of this.open.values()) if (run?.adds) out.leave(leftOf(run), idleCutoff);
    for (const cart of this.carts.values()) {
      if (!cart.contents.adds) continue;
      const paid = cart.person === null ? null : this.lastPlain.get(cart.person) ?? null;
      if (completes(cart.lastPurchase, cart.firstAdd!) || completes(paid, cart.firstAdd!)) out.completed++;
      else out.leave(leftOf(cart.contents), idleCutoff);
    }
    return out.counts();
  }
}

/** Outcomes counted so far. */
class Outcomes {
  completed = 0;
  abandoned = 0;
  abandonedValue = 0;
  open = 0;

  /** A cart or run left as it was: if it holds units, open when added to at or after the idle cutoff, else abandoned. */
  leave([units, value, lastAdd]: Left, idleCutoff = Infinity): void {
    if (units <= 0) return;
    if (lastAdd !== null && lastAdd >= idleCutoff) {
      this.open++;
      return;
    }
    this.abandoned++;
    this.abandonedValue += value;
  }

  /** Adds c, or with sign -1 takes it away. */
  add(c: CartCounts, sign = 1): void {
    this.completed += sign * c.completed;
    this.abandoned += sign * c.abandoned;
    this.abandonedValue += sign * c.abandonedValue;
    this.open += sign * c.open;
  }

  counts(): CartCounts {
    return { completed: this.completed, abandoned: this.abandoned, abandonedValue: this.abandonedValue, open: this.open };
  }
}

/** What a cart left: units (of the items with any), their value at each item's latest add-to-cart price, and its last add (ms). */
type Left = [units: number, value: number, lastAdd: number | null];

function leftOf(contents: Contents): Left {
  let units = 0;
  let value = 0;
  let lastAdd: number | null = null;
  for (const [n, at, , , price] of contents.items.values()) {
    lastAdd = maxOf(lastAdd, at);
    if (n <= 0) continue;
    units += n;
    value += n * (price ?? 0);
  }
  return [units, value, lastAdd];
}

/** Whether a purchase at `at` (carrying the cartId, or by the cart's person without one) completes a cart first added to at `firstAdd`. */
const completes = (at: number | null, firstAdd: number) => at !== null && at >= firstAdd;

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

/** Whether a purchase carrying its cartId completed the cart that day: whatever other days add to it, it is completed (its first add can only be earlier, its latest purchase later). */
const doneOnDay = (d: CartDay) => d.firstAdd !== null && d.lastPurchase !== null && d.lastPurchase >= d.firstAdd;

/** The person whose purchase without a cartId on a later day would complete the cart: null when none could. */
const payingPerson = (d: CartDay) => (doneOnDay(d) ? null : d.person);

/**
 * A person ("p") or cartId ("c") as a 24-bit hash, for the sets of rollup_cart_totals and the lookups of rollup_carts:
 * Roaring sets of values below 2^24 take 256 containers at most, so a range's set operations stay cheap. Keys come as
 * CartDays tells them apart (as the database does); different ones may share a hash (a month of 85,000 people and
 * carts, about 0.5 %), which only makes a report read a few more rows.
 */
export const keyHash = (kind: "p" | "c", key: string) => createHash("sha256").update(`${kind}:${key}`).digest().readUIntLE(0, 3);

/**
 * A day's keys, hashed: `entities`, every person and cartId with a summary; `dangling`, those whose summary a later
 * day's goes on from (a person's run left open with adds or removals at the day's end, and every cart); `cartPeople`,
 * the people of its carts that a later purchase without a cartId would complete; `plainBuyers`, the people with a
 * purchase without a cartId. A range reads from them which people and carts other days of it change the outcome of.
 */
export interface CartSets {
  entities: RoaringBitmap32;
  dangling: RoaringBitmap32;
  cartPeople: RoaringBitmap32;
  plainBuyers: RoaringBitmap32;
}

const emptySets = (): CartSets => ({ entities: emptySet(), dangling: emptySet(), cartPeople: emptySet(), plainBuyers: emptySet() });

function addSets(sets: CartSets, day: DaySummaries): void {
  for (const [person, d] of day.people) {
    const h = keyHash("p", person);
    sets.entities.add(h);
    // A run that ends the day empty leaves the next day's as if it were the person's first: nothing to fold.
    const open = d.purchases === 0 ? d.lead : d.trail!;
    if (open.adds || open.items.size > 0) sets.dangling.add(h);
    if (d.lastPlain !== null) sets.plainBuyers.add(h);
  }
  for (const [cartId, d] of day.carts) {
    const h = keyHash("c", cartId);
    sets.entities.add(h);
    sets.dangling.add(h);
    const person = payingPerson(d);
    if (person !== null) sets.cartPeople.add(keyHash("p", person));
  }
}

/**
 * What rollup_cart_totals holds of a day and variant: the outcomes of its carts taken alone (as if no other day had
 * events), and its sets. Summaries of the day's parts are added one after another, and what is kept of them is small:
 * a person's runs (their events all fall in one part) settle with their part, and a cart too, unless its person's
 * purchase without a cartId, in another part, may complete it; then its first add and what is left wait for the last part.
 */
export class CartDayTotals {
  private readonly outcomes = new Outcomes();
  private readonly lastPlain = new Map<string, number>();
  private readonly pending: [person: string, firstAdd: number, left: Left][] = [];
  private readonly sets = emptySets();

  add(day: DaySummaries | undefined): void {
    if (!day) return;
    this.outcomes.add(foldCarts([{ people: day.people, carts: new Map() }]));
    for (const [person, d] of day.people) if (d.lastPlain !== null) this.lastPlain.set(person, Math.max(this.lastPlain.get(person) ?? d.lastPlain, d.lastPlain));
    for (const cart of day.carts.values()) {
      if (!cart.contents.adds) continue;
      if (completes(cart.lastPurchase, cart.firstAdd!)) this.outcomes.completed++;
      else if (cart.person === null) this.outcomes.leave(leftOf(cart.contents));
      else this.pending.push([cart.person, cart.firstAdd!, leftOf(cart.contents)]);
    }
    addSets(this.sets, day);
  }

  /** completed, abandoned, abandoned_value, entities, dangling, cart_people, plain_buyers; null for a day without carts. */
  columns(): unknown[] | null {
    if (this.sets.entities.size === 0) return null;
    const out = new Outcomes();
    out.add(this.outcomes.counts());
    for (const [person, firstAdd, left] of this.pending) {
      if (completes(this.lastPlain.get(person) ?? null, firstAdd)) out.completed++;
      else out.leave(left);
    }
    const { entities, dangling, cartPeople, plainBuyers } = this.sets;
    return [out.completed, out.abandoned, out.abandonedValue, ...[entities, dangling, cartPeople, plainBuyers].map(storedSet)];
  }
}

/**
 * A day's summaries as rollup_carts rows: kind ("p": a person's runs, "c": a cartId's cart), key, its hash, then for
 * each variant the JSON ("p": [purchases, lastPlain, middle, lead, trail]; "c": [person, firstAdd, lastPurchase,
 * contents]) and the hash of the cart's paying person. Left out is what no fold reads: the items of a lead that a
 * purchase ends (it only tells whether it has an add), and the items and person of a cart done that day.
 */
export function cartDayRows(clean: DaySummaries | undefined, all: DaySummaries | undefined): Row[] {
  const rows: Row[] = [];
  const person = (d: PersonDay | undefined) =>
    d ? JSON.stringify([d.purchases, d.lastPlain, d.middle, storedContents(d.lead, d.purchases === 0), d.trail && storedContents(d.trail)]) : null;
  const cart = (d: CartDay | undefined) => {
    if (!d) return [null, null];
    const paying = payingPerson(d);
    return [JSON.stringify([paying, d.firstAdd, d.lastPurchase, storedContents(d.contents, !doneOnDay(d))]), paying === null ? null : keyHash("p", paying)];
  };
  for (const key of all?.people.keys() ?? []) {
    const [c, a] = [clean?.people.get(key), all!.people.get(key)];
    rows.push(["p", key, keyHash("p", key), person(c), null, person(a), null, openRunAdd(c), openRunAdd(a)]);
  }
  for (const key of all?.carts.keys() ?? []) {
    const [c, a] = [clean?.carts.get(key), all!.carts.get(key)];
    rows.push(["c", key, keyHash("c", key), ...cart(c), ...cart(a), openCartAdd(c), openCartAdd(a)]);
  }
  return rows;
}

/** The last add (ms) of what a summary leaves open at the day's end: the run after its last purchase, or a cart not done that day. */
const openRunAdd = (d: PersonDay | undefined) => (d ? leftOf(d.purchases === 0 ? d.lead : d.trail!)[2] : null);
const openCartAdd = (d: CartDay | undefined) => (d && !doneOnDay(d) ? leftOf(d.contents)[2] : null);

export const CART_ROW_COLUMNS = ["kind", "cart_key", "key_hash", "state", "person_hash", "state_all", "person_hash_all", "last_add", "last_add_all"] as const;

export const emptyDay = (): DaySummaries => ({ people: new Map(), carts: new Map() });

/** Adds a stored row to a day's summaries. */
export function addStored(day: DaySummaries, kind: string, key: string, state: string): void {
  if (kind === "p") {
    const [purchases, lastPlain, middle, lead, trail] = JSON.parse(state) as [number, number | null, number, StoredContents, StoredContents | null];
    day.people.set(key, { purchases, lastPlain, middle, lead: contentsOf(lead), trail: trail && contentsOf(trail) });
  } else {
    const [person, firstAdd, lastPurchase, contents] = JSON.parse(state) as [string | null, number | null, number | null, StoredContents];
    day.carts.set(key, { person, firstAdd, lastPurchase, contents: contentsOf(contents) });
  }
}


/** The hashes of the keys whose run or cart a clean day of `days` leaves open with an add at or after the cutoff (ms). */
async function lateKeys(db: Db, appspaceId: number, days: readonly string[], withFlagged: boolean, idleCutoff: number): Promise<RoaringBitmap32> {
  const from = Number.isFinite(idleCutoff) ? new Date(idleCutoff).toISOString().slice(0, 10) : null;
  const near = from === null ? [] : days.filter(d => d >= from);
  if (near.length === 0) return emptySet();
  const rows = await queryRows<{ key_hash: unknown }>(db, sql`SELECT key_hash FROM rollup_carts WHERE appspace_id = ${appspaceId}
    AND day IN (${joinSql(near.map(d => sql`${d}`))}) AND ${raw(withFlagged ? "last_add_all" : "last_add")} >= ${idleCutoff}`);
  return new RoaringBitmap32(rows.map(r => toNumber(r.key_hash)));
}

/**
 * The carts of a range of days (oldest first) and their outcomes. The range is cut into pieces: runs of clean days, and
 * each stale day alone. A run of clean days counts its days' carts taken alone (rollup_cart_totals) and what carts
 * spanning two of its days change (rollup_cart_pairs: src/rollups/cart-pairs.ts); a stale day is computed from raw
 * events and folded whole. Between pieces, the carts whose outcome another piece changes are read and folded over the
 * range instead: people and cartIds with summaries in two pieces, the earlier leaving a run or cart open (it goes on),
 * carts a later purchase without a cartId by their person completes. The days' sets tell which. A range of clean days
 * reads one sum of its totals and pairs, however many carts it holds. With stale days (and on SQLite always), call it
 * in a transaction, so that its reads see one state of the rollups. A cart whose last add is at or after `idleCutoff`
 * (ms) is open, not abandoned: on the clean days near the cutoff such carts are found by their rows' last add
 * (lateKeys) and folded over the range like those the stale days change, never taken from a day's totals.
 */
export async function cartCounts(db: Db, appspaceId: number, days: readonly string[], stale: ReadonlySet<string>, withFlagged: boolean, idleCutoff = Infinity): Promise<CartCounts> {
  const [first, last] = [days[0], days[days.length - 1]];
  const flag = withFlagged ? 1 : 0;
  const staleDays = days.filter(d => stale.has(d));
  const pieces: string[][] = [];
  for (const day of days) {
    if (stale.has(day) || pieces.length === 0 || stale.has(pieces[pieces.length - 1][0])) pieces.push([day]);
    else pieces[pieces.length - 1].push(day);
  }

  type Sums = { completed: unknown; abandoned: unknown; abandoned_value: unknown };
  // The totals count a day's carts as the day left them, none open: the open ones are folded apart (lateKeys).
  const countsOf = (s: Sums): CartCounts => ({ completed: toNumber(s.completed), abandoned: toNumber(s.abandoned), abandonedValue: toNumber(s.abandoned_value), open: 0 });
  const sums = raw("COALESCE(SUM(completed), 0) AS completed, COALESCE(SUM(abandoned), 0) AS abandoned, COALESCE(SUM(abandoned_value), 0) AS abandoned_value");
  // Pairs of days within one piece of clean days: no stale day between them, nor at either end.
  const pairs = sql`SELECT completed, abandoned, abandoned_value FROM rollup_cart_pairs WHERE appspace_id = ${appspaceId} AND with_flagged = ${flag}
    AND day_from >= ${first} AND day_from <= ${last} AND day_to <= ${last}${joinSql(staleDays.map(d => sql` AND NOT (day_from <= ${d} AND day_to >= ${d})`), "")}`;
  const totalsOf = (columns: Sql) => sql`SELECT ${columns} FROM rollup_cart_totals WHERE appspace_id = ${appspaceId} AND day >= ${first} AND day <= ${last} AND with_flagged = ${flag}`;
  // Carts added to at or after the idle cutoff on a clean day are still open: folded over the range, like those the
  // stale days change, instead of counted abandoned by the totals.
  const late = await lateKeys(db, appspaceId, days.filter(d => !stale.has(d)), withFlagged, idleCutoff);
  if (staleDays.length === 0 && late.size === 0) {
    const [all] = await queryRows<Sums>(db, sql`SELECT ${sums} FROM (${totalsOf(raw("completed, abandoned, abandoned_value"))} UNION ALL ${pairs}) s`);
    return countsOf(all);
  }

  const counts = new Outcomes();
  counts.add(countsOf((await queryRows<Sums>(db, sql`SELECT ${sums} FROM (${pairs}) s`))[0]));
  // The days' sets where pieces meet.
  type Totals = Sums & { day: string; entities: Buffer; dangling: Buffer; cart_people: Buffer; plain_buyers: Buffer };
  const totals = await queryRows<Totals>(db, totalsOf(raw(`day, completed, abandoned, abandoned_value${pieces.length > 1 ? ", entities, dangling, cart_people, plain_buyers" : ""}`)));
  const stored = new Map(totals.filter(t => !stale.has(t.day)).map(t => [t.day, t]));
  for (const t of stored.values()) counts.add(countsOf(t));

  const fresh = new CartDays(withFlagged, samePerson(db));
  await eachDayEvents(db, appspaceId, staleDays, CART_TYPES, page => fresh.add(page));
  // Keys whose rows to read (wanted): dangling in an earlier piece and seen again, and the people of a stale day's carts
  // (a cart read from a clean day gives its people through its row). People who pay in a later piece for a cart of an
  // earlier one (paying): their carts, then the carts' people.
  const [dangling, carted, wanted, paying] = [emptySet(), emptySet(), emptySet(), emptySet()];
  for (const piece of pieces) {
    const sets = emptySets();
    if (stale.has(piece[0])) {
      const summaries = fresh.days.get(piece[0]);
      if (!summaries) continue;
      addSets(sets, summaries);
      for (const c of summaries.carts.values()) if (c.person !== null) wanted.add(keyHash("p", c.person));
    } else if (pieces.length > 1) {
      // (A range of one clean piece, read for its late keys only, has no other piece to meet: no sets were read.)
      for (const day of piece) {
        const t = stored.get(day);
        if (!t) continue;
        sets.entities.orInPlace(setOf(t.entities));
        sets.dangling.orInPlace(setOf(t.dangling));
        sets.cartPeople.orInPlace(setOf(t.cart_people));
        sets.plainBuyers.orInPlace(setOf(t.plain_buyers));
      }
    }
    wanted.orInPlace(RoaringBitmap32.and(dangling, sets.entities));
    dangling.orInPlace(sets.dangling);
    paying.orInPlace(RoaringBitmap32.and(carted, sets.plainBuyers));
    carted.orInPlace(sets.cartPeople);
  }

  // Their rows (of clean days): by key and by paying person, then the people and other days of the carts read. Each list is
  // joined as a table of values: a lookup per value in the key (as an IN list with a range of days, MariaDB takes twice as long).
  wanted.orInPlace(late);
  const [state, personHash] = withFlagged ? [raw("state_all"), raw("person_hash_all")] : [raw("state"), raw("person_hash")];
  type Read = { day: string; kind: string; cart_key: string; state: string; person_hash: unknown };
  const read = async (lists: [column: Sql, hashes: RoaringBitmap32][]) => {
    const used = lists.filter(([, hashes]) => hashes.size > 0);
    if (used.length === 0) return [];
    const tables = joinSql(used.map(([, hashes], n) => sql`h${raw(String(n))} (h) AS (VALUES ${valueList(hashes)})`));
    const selects = used.map(([column], n) => sql`SELECT r.day, r.kind, r.cart_key, r.${state} AS state, r.${personHash} AS person_hash
      FROM h${raw(String(n))} JOIN rollup_carts r ON r.appspace_id = ${appspaceId} AND r.${column} = h${raw(String(n))}.h
      WHERE r.day >= ${first} AND r.day <= ${last} AND r.${state} IS NOT NULL`);
    return queryRows<Read>(db, sql`WITH ${tables} ${joinSql(selects, " UNION ALL ")}`);
  };
  const rows = await read([[raw("key_hash"), wanted], [personHash, paying]]);
  // Then the people of the carts read, and every day of the carts read by their paying person (a day with only the
  // purchase carrying the cartId names no person): their outcome within a piece is then the one its totals and pairs hold.
  const people = new RoaringBitmap32(rows.filter(r => r.person_hash !== null && !wanted.has(toNumber(r.person_hash))).map(r => toNumber(r.person_hash)));
  const carts = new RoaringBitmap32(rows.filter(r => r.kind === "c").map(r => keyHash("c", r.cart_key)).filter(h => !wanted.has(h)));
  for (const r of await read([[raw("key_hash"), RoaringBitmap32.or(people, carts)]])) {
    if ((r.kind === "p" ? people : carts).has(keyHash(r.kind as "p" | "c", r.cart_key))) rows.push(r);
  }

  const readDays = new Map<string, DaySummaries>();
  const taken = new Set<string>();
  for (const r of rows) {
    if (stale.has(r.day)) continue;
    const id = `${r.day}|${r.kind}|${r.cart_key}`;
    if (taken.has(id)) continue;
    taken.add(id);
    let day = readDays.get(r.day);
    if (!day) readDays.set(r.day, (day = emptyDay()));
    addStored(day, r.kind, r.cart_key, r.state);
  }
  // Their outcomes within their pieces, which the totals and pairs hold, give way to those over the range.
  for (const piece of pieces) if (piece.some(d => readDays.has(d))) counts.add(foldCarts(piece.map(d => readDays.get(d) ?? emptyDay())), -1);
  counts.add(foldCarts(days.map(d => (stale.has(d) ? fresh.days.get(d) : readDays.get(d)) ?? emptyDay()), idleCutoff));
  return counts.counts();
}
