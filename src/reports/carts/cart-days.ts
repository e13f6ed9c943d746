import { createHash } from "node:crypto";
import { RoaringBitmap32 } from "roaring";
import { joinSql, queryRows, raw, Sql, sql, valueList, inList } from "../../db/query";
import { Db, Row, toNumber } from "../../db/sql";
import { DayEvent, eachDayEvents } from "../../events/day-events";
import { emptySet, samePerson, setOf, storedSet } from "../../rollups/people-sets";

/*
 * Carts as docs/reports.md defines them, by one fold over a person's cart events in time order (CartFold):
 * - a cart is a cartId (its adds and removes), or a person's adds and removes without one since the last such cart of
 *   theirs a purchase completed (their cart without id); a cartId's cart belongs to the person of its first add;
 * - a purchase carrying a cartId completes that cart; one without completes its person's most recent open cart (of
 *   their cartId carts and their cart without id, the one added to last);
 * - a cart is open while it is not completed and holds units: an emptied cart is passed over by purchases and is
 *   neither completed nor abandoned; a removal takes away at most the units held;
 * - an open cart at the end of a range is abandoned once it has been idle for cartIdleMinutes, else still open. Raw
 * events fold the range's events; rollups store each day's cart events per person and cartId (rollup_carts) and sum
 * per-day totals and pairs of days (cart-pairs.ts), folding only the carts that cross stale days or the idle cutoff.
 */

export const CART_TYPES: readonly string[] = ["ADD_TO_CART", "REMOVE_FROM_CART", "PURCHASE"];

const enum Move {
  Add = 0,
  Remove = 1,
  Purchase = 2,
}

/** An item of an add or remove: id, quantity, and (for an add) its price in minor units. */
type CartLine = [itemId: string, quantity: number, price: number | null];

/** A cart event as the fold reads it. */
export interface CartEvent {
  move: Move;
  at: number;
  /** Row id: orders events of one instant (with adds and removes before purchases). */
  id: number;
  /** The person of an add carrying a cartId (its first one owns the cart); null for the other events. */
  person: string | null;
  lines: CartLine[];
}

/**
 * A day's cart events: per person, those without a cartId (their cart without id, their purchases); per cartId, its
 * adds, removes and purchases.
 */
export interface DaySummaries {
  people: Map<string, CartEvent[]>;
  carts: Map<string, CartEvent[]>;
}

export const emptyDay = (): DaySummaries => ({ people: new Map(), carts: new Map() });

const MOVES: Record<string, Move> = { ADD_TO_CART: Move.Add, REMOVE_FROM_CART: Move.Remove, PURCHASE: Move.Purchase };

/** Collects, a page of events at a time (in time order, of any days), each day's cart events per person and cartId. */
export class CartDays {
  readonly days = new Map<string, DaySummaries>();

  /**
   * withFlagged: flagged events count too; people and cartIds are told apart as `same` says (samePerson: as the
   * database does).
   */
  constructor(
    private readonly withFlagged: boolean,
    private readonly same: (person: string) => string,
  ) {}

  add(events: readonly DayEvent[]): void {
    for (const e of events) {
      const move = MOVES[e.type];
      if (move === undefined || (e.flagged && !this.withFlagged)) continue;
      const person = e.person === null ? null : this.same(e.person);
      const owner = e.cartId !== null && move === Move.Add ? person : null;
      const event: CartEvent = {
        move,
        at: e.at,
        id: e.id,
        person: owner,
        lines: e.lines.map(l => [l.itemId, l.quantity, l.price]),
      };
      const key = e.cartId !== null ? (e.ofCart ? this.same(e.cartId) : null) : e.ofPerson ? person : null;
      if (key === null) continue;
      let day = this.days.get(e.day);
      if (!day) this.days.set(e.day, (day = emptyDay()));
      const lists = e.cartId !== null ? day.carts : day.people;
      const list = lists.get(key);
      if (list) list.push(event);
      else lists.set(key, [event]);
    }
  }
}

/** A cart as the fold holds it. */
interface Cart {
  /** Per item: units held, and its latest add's price. */
  items: Map<string, [units: number, price: number | null]>;
  /** The latest add: time (ms, null before any) and row id. */
  lastAt: number | null;
  lastId: number;
  /** The person of its first add with one (a cartId's cart). */
  owner: string | null;
  done: boolean;
}

const newCart = (): Cart => ({ items: new Map(), lastAt: null, lastId: 0, owner: null, done: false });

/** Events come in time order, so each add is the item's latest: its price is the one an abandoned cart is worth. */
function apply(cart: Cart, e: CartEvent): void {
  for (const [itemId, quantity, price] of e.lines) {
    const held = cart.items.get(itemId);
    if (e.move === Move.Remove) {
      if (held) held[0] = Math.max(0, held[0] - quantity);
    } else if (held) {
      held[0] += quantity;
      held[1] = price;
    } else {
      cart.items.set(itemId, [quantity, price]);
    }
  }
  if (e.move === Move.Add) [cart.lastAt, cart.lastId] = [e.at, e.id];
}

/** What a cart holds: units, their value at each item's latest add price, and its last add (ms). */
type Left = [units: number, value: number, lastAdd: number | null];

function leftOf(cart: Cart): Left {
  let [units, value] = [0, 0];
  for (const [n, price] of cart.items.values()) {
    units += n;
    value += n * (price ?? 0);
  }
  return [units, value, cart.lastAt];
}

const isOpen = (cart: Cart) => !cart.done && leftOf(cart)[0] > 0;

/** Whether a was added to after b. */
const addedLater = (a: Cart, b: Cart) => a.lastAt! > b.lastAt! || (a.lastAt === b.lastAt && a.lastId > b.lastId);

/** Time order within a day: by time, adds and removes before a purchase of the same instant, then row id. */
const inOrder = (a: CartEvent, b: CartEvent) =>
  a.at - b.at || (a.move === Move.Purchase ? 1 : 0) - (b.move === Move.Purchase ? 1 : 0) || a.id - b.id;

/** Days' cart events folded oldest first: the carts so far, and their outcomes were the range to end there. */
export class CartFold {
  private readonly carts = new Map<string, Cart>();
  /** Per person, their cart without id (a new one starts after a purchase completes it). */
  private readonly withoutId = new Map<string, Cart>();
  /** Per person, the cartId carts they own (the person of their first add). */
  private readonly owned = new Map<string, Cart[]>();
  private completed = 0;

  /** Adds a day's events (the summaries are only read: a fold can be started again from them). */
  add(day: DaySummaries): void {
    const events: [CartEvent, person: string | null, cartId: string | null][] = [];
    for (const [person, list] of day.people) for (const e of list) events.push([e, person, null]);
    for (const [cartId, list] of day.carts) for (const e of list) events.push([e, null, cartId]);
    events.sort(([a], [b]) => inOrder(a, b));
    for (const [e, person, cartId] of events) {
      if (cartId !== null) this.cartEvent(cartId, e);
      else this.personEvent(person!, e);
    }
  }

  private cartEvent(cartId: string, e: CartEvent): void {
    let cart = this.carts.get(cartId);
    if (e.move === Move.Purchase) {
      if (cart && isOpen(cart)) this.complete(cart);
      return;
    }
    if (!cart) this.carts.set(cartId, (cart = newCart()));
    if (cart.done) return;
    if (cart.owner === null && e.person !== null) {
      cart.owner = e.person;
      const owned = this.owned.get(e.person);
      if (owned) owned.push(cart);
      else this.owned.set(e.person, [cart]);
    }
    apply(cart, e);
  }

  private personEvent(person: string, e: CartEvent): void {
    if (e.move !== Move.Purchase) {
      let cart = this.withoutId.get(person);
      if (!cart) this.withoutId.set(person, (cart = newCart()));
      apply(cart, e);
      return;
    }
    // A purchase without a cartId: the person's most recent open cart.
    const owned = (this.owned.get(person) ?? []).filter(c => !c.done);
    this.owned.set(person, owned);
    let chosen: Cart | null = null;
    for (const cart of [this.withoutId.get(person), ...owned])
      if (cart && isOpen(cart) && (!chosen || addedLater(cart, chosen))) chosen = cart;
    if (!chosen) return;
    this.complete(chosen);
    if (chosen === this.withoutId.get(person)) this.withoutId.delete(person);
  }

  private complete(cart: Cart): void {
    cart.done = true;
    this.completed++;
  }

  /**
   * The outcomes of the carts so far: an open cart is abandoned, or open when its last add is at or after `idleCutoff`
   * (ms).
   */
  counts(idleCutoff = Infinity): CartCounts {
    const out = new Outcomes();
    out.completed = this.completed;
    for (const carts of [this.carts.values(), this.withoutId.values()])
      for (const cart of carts) if (!cart.done) out.leave(leftOf(cart), idleCutoff);
    return out.counts();
  }
}

/** Folds the days' events, oldest first, into the outcomes of their carts. */
export function foldCarts(days: readonly DaySummaries[], idleCutoff = Infinity): CartCounts {
  const fold = new CartFold();
  for (const day of days) fold.add(day);
  return fold.counts(idleCutoff);
}

export interface CartCounts {
  completed: number;
  abandoned: number;
  /** Minor units: the units left of each abandoned cart's items, at their latest add-to-cart price. */
  abandonedValue: number;
  /** Carts with units left whose last add came at or after the idle cutoff: not abandoned (yet). */
  open: number;
}

/** Outcomes counted so far. */
class Outcomes {
  completed = 0;
  abandoned = 0;
  abandonedValue = 0;
  open = 0;

  /** A cart left as it was: if it holds units, open when added to at or after the idle cutoff, else abandoned. */
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
    return {
      completed: this.completed,
      abandoned: this.abandoned,
      abandonedValue: this.abandonedValue,
      open: this.open,
    };
  }
}

/** The person of a day's first add to a cartId with one: the cart's owner, were the day its first. */
const ownerOf = (events: readonly CartEvent[]) => events.find(e => e.person !== null)?.person ?? null;

/**
 * Whether a purchase carrying the cartId completes it on the day taken alone: then it is completed whatever days come
 * before or after.
 */
const doneAlone = (events: CartEvent[]) =>
  foldCarts([{ people: new Map(), carts: new Map([["", events]]) }]).completed > 0;

/**
 * Whether a person's cart without id may hold units at the day's end, however it starts: it does if it holds units
 * with the day's purchases left out (a purchase only ever empties it), started empty (what it held before adds the
 * same to either side, and a removal takes away at most what is held).
 */
function mayHoldUnits(events: readonly CartEvent[]): boolean {
  const cart = newCart();
  for (const e of events) if (e.move !== Move.Purchase) apply(cart, e);
  return leftOf(cart)[0] > 0;
}

/**
 * A person ("p") or cartId ("c") as a 24-bit hash, for the sets of rollup_cart_totals and the lookups of rollup_carts:
 * Roaring sets of values below 2^24 take 256 containers at most, so a range's set operations stay cheap. Keys come as
 * CartDays tells them apart (as the database does); different ones may share a hash (a month of 85,000 people and
 * carts, about 0.5 %), which only makes a report read a few more rows.
 */
export const keyHash = (kind: "p" | "c", key: string) =>
  createHash("sha256").update(`${kind}:${key}`).digest().readUIntLE(0, 3);

/**
 * A day's keys, hashed, from which a range tells which people and carts other days of it change the outcome of:
 * `entities`, every person and cartId with events; `dangling`, those whose state a later day goes on from (a person
 * whose cart without id may hold units at the day's end, and every cartId); `cartPeople`, the owners of carts not
 * completed that day, which a later purchase without a cartId may complete; `plainBuyers`, people with such a purchase.
 */
export interface CartSets {
  entities: RoaringBitmap32;
  dangling: RoaringBitmap32;
  cartPeople: RoaringBitmap32;
  plainBuyers: RoaringBitmap32;
}

const emptySets = (): CartSets => ({
  entities: emptySet(),
  dangling: emptySet(),
  cartPeople: emptySet(),
  plainBuyers: emptySet(),
});

function addSets(sets: CartSets, day: DaySummaries): void {
  for (const [person, events] of day.people) {
    const h = keyHash("p", person);
    sets.entities.add(h);
    if (mayHoldUnits(events)) sets.dangling.add(h);
    if (events.some(e => e.move === Move.Purchase)) sets.plainBuyers.add(h);
  }
  for (const [cartId, events] of day.carts) {
    const h = keyHash("c", cartId);
    sets.entities.add(h);
    sets.dangling.add(h);
    const owner = ownerOf(events);
    if (owner !== null && !doneAlone(events)) sets.cartPeople.add(keyHash("p", owner));
  }
}

/**
 * What rollup_cart_totals holds of a day and variant: the outcomes of its carts taken alone (as if no other day had
 * events), and its sets. The day comes in parts (by person and by cartId): a person without a purchase without a
 * cartId, and a cart without an owner, settle with their part; the other people and carts wait for the last part,
 * when each owner's carts are all in (a purchase without a cartId chooses among them).
 */
export class CartDayTotals {
  private readonly outcomes = new Outcomes();
  private readonly waiting = emptyDay();
  private readonly sets = emptySets();

  add(day: DaySummaries | undefined): void {
    if (!day) return;
    const alone = emptyDay();
    for (const [person, events] of day.people)
      (events.some(e => e.move === Move.Purchase) ? this.waiting : alone).people.set(person, events);
    for (const [cartId, events] of day.carts)
      (ownerOf(events) !== null ? this.waiting : alone).carts.set(cartId, events);
    this.outcomes.add(foldCarts([alone]));
    addSets(this.sets, day);
  }

  /**
   * completed, abandoned, abandoned_value, entities, dangling, cart_people, plain_buyers; null for a day without carts.
   */
  columns(): unknown[] | null {
    if (this.sets.entities.size === 0) return null;
    const out = new Outcomes();
    out.add(this.outcomes.counts());
    out.add(foldCarts([this.waiting]));
    const { entities, dangling, cartPeople, plainBuyers } = this.sets;
    return [
      out.completed,
      out.abandoned,
      out.abandonedValue,
      ...[entities, dangling, cartPeople, plainBuyers].map(storedSet),
    ];
  }
}

/**
 * Events as stored: [move, at, id, person, then itemId, quantity, price for each line] each, flat within an event:
 * a month of a busy appspace's carts is tens of thousands of rows, and JSON arrays of scalars parse fastest.
 */
type StoredEvent = (string | number | null)[];

const storedEvents = (events: readonly CartEvent[]) =>
  JSON.stringify(events.map(e => [e.move, e.at, e.id, e.person, ...e.lines.flat()]));

function eventsOf(state: string): CartEvent[] {
  return (JSON.parse(state) as StoredEvent[]).map(([move, at, id, person, ...flat]) => {
    const lines: CartLine[] = [];
    for (let i = 0; i < flat.length; i += 3)
      lines.push([flat[i] as string, flat[i + 1] as number, flat[i + 2] as number | null]);
    return { move: move as Move, at: at as number, id: id as number, person: person as string | null, lines };
  });
}

/** The time (ms) of a row's last add: a report finds by it the carts added to after its idle cutoff (lateKeys). */
const lastAddOf = (events: readonly CartEvent[] | undefined) =>
  events?.reduce<number | null>((last, e) => (e.move === Move.Add ? e.at : last), null) ?? null;

/**
 * A day's events as rollup_carts rows: kind ("p": a person's events without a cartId, "c": a cartId's), key, its hash,
 * then for each variant the events and the hash of the cart's owner that day (which joins it to its owner's group),
 * then each variant's last add.
 */
export function cartDayRows(clean: DaySummaries | undefined, all: DaySummaries | undefined): Row[] {
  const rows: Row[] = [];
  const state = (events: CartEvent[] | undefined) => (events ? storedEvents(events) : null);
  const owner = (events: CartEvent[] | undefined) => {
    const person = events ? ownerOf(events) : null;
    return person === null ? null : keyHash("p", person);
  };
  for (const [key, events] of all?.people ?? []) {
    const ofClean = clean?.people.get(key);
    rows.push([
      "p",
      key,
      keyHash("p", key),
      state(ofClean),
      null,
      state(events),
      null,
      lastAddOf(ofClean),
      lastAddOf(events),
    ]);
  }
  for (const [key, events] of all?.carts ?? []) {
    const ofClean = clean?.carts.get(key);
    rows.push([
      "c",
      key,
      keyHash("c", key),
      state(ofClean),
      owner(ofClean),
      state(events),
      owner(events),
      lastAddOf(ofClean),
      lastAddOf(events),
    ]);
  }
  return rows;
}

export const CART_ROW_COLUMNS = [
  "kind",
  "cart_key",
  "key_hash",
  "state",
  "person_hash",
  "state_all",
  "person_hash_all",
  "last_add",
  "last_add_all",
] as const;

/** Adds a stored row to a day's events. */
export function addStored(day: DaySummaries, kind: string, key: string, state: string): void {
  (kind === "p" ? day.people : day.carts).set(key, eventsOf(state));
}

/** A row of rollup_carts. */
export interface CartRow {
  day: string;
  kind: string;
  cart_key: string;
  key_hash: unknown;
  state: string | null;
  person_hash: unknown;
  state_all: string | null;
  person_hash_all: unknown;
}

const COLUMNS = raw("r.day, r.kind, r.cart_key, r.key_hash, r.state, r.person_hash, r.state_all, r.person_hash_all");

export const cartRowHashes = (r: CartRow) =>
  [r.key_hash, r.person_hash, r.person_hash_all].filter(h => h !== null).map(toNumber);

/**
 * The rows of the groups of these hashes (people and cartIds): a person's rows with those of the carts they own, and
 * those carts' rows on every day with their owners', followed until no new hash comes (two keys sharing a hash only
 * make a group larger). Rows on days from..to (either unbounded when null) but `except`; `known`: hashes already
 * followed, left out of the lookups.
 */
export async function groupRows(
  db: Db,
  appspaceId: number,
  hashes: Iterable<number>,
  days: { from: string | null; to: string | null; except: string | null },
  known = new Set<number>(),
): Promise<CartRow[]> {
  const rows = new Map<string, CartRow>();
  const bounds = sql`${
    days.from === null
      ? raw("")
      : sql` AND r.day >=
    ${days.from}`
  }${days.to === null ? raw("") : sql` AND r.day <= ${days.to}`}${
    days.except === null
      ? raw("")
      : sql`
      AND r.day <> ${days.except}`
  }`;
  let next = [...hashes].filter(h => !known.has(h));
  next.forEach(h => known.add(h));
  while (next.length > 0) {
    const found: CartRow[] = [];
    // A table of values joined per column: a lookup per hash in the index (an IN list takes MariaDB twice as long).
    for (let i = 0; i < next.length; i += 10_000) {
      const selects = ["key_hash", "person_hash", "person_hash_all"].map(
        column =>
          sql`SELECT ${COLUMNS} FROM h JOIN rollup_carts r ON r.appspace_id = ${appspaceId} AND r.${raw(column)} =
            h.h${bounds}`,
      );
      found.push(
        ...(await queryRows<CartRow>(
          db,
          sql`WITH h (h) AS (VALUES ${valueList(next.slice(i, i + 10_000))}) ${joinSql(selects, " UNION ALL ")}`,
        )),
      );
    }
    next = [];
    for (const r of found) {
      const id = `${r.day}|${r.kind}|${r.cart_key}`;
      if (rows.has(id)) continue;
      rows.set(id, r);
      for (const h of cartRowHashes(r)) {
        if (known.has(h)) continue;
        known.add(h);
        next.push(h);
      }
    }
  }
  return [...rows.values()];
}

/** The hashes of the keys with an add at or after the cutoff (ms) on a clean day of `days`. */
async function lateKeys(
  db: Db,
  appspaceId: number,
  days: readonly string[],
  withFlagged: boolean,
  idleCutoff: number,
): Promise<RoaringBitmap32> {
  const from = Number.isFinite(idleCutoff) ? new Date(idleCutoff).toISOString().slice(0, 10) : null;
  const near = from === null ? [] : days.filter(d => d >= from);
  if (near.length === 0) return emptySet();
  const rows = await queryRows<{ key_hash: unknown }>(
    db,
    sql`SELECT key_hash FROM rollup_carts WHERE appspace_id = ${appspaceId}
    AND day IN (${inList(near)}) AND ${raw(withFlagged ? "last_add_all" : "last_add")} >= ${idleCutoff}`,
  );
  return new RoaringBitmap32(rows.map(r => toNumber(r.key_hash)));
}

/**
 * The carts of a range of days (oldest first) and their outcomes. The range is cut into pieces: runs of clean days, and
 * each stale day alone. A run of clean days counts its days' carts taken alone (rollup_cart_totals) and what carts
 * spanning two of its days change (rollup_cart_pairs: src/reports/carts/cart-pairs.ts); a stale day is folded from its
 * events. Where pieces meet, the groups (a person with the carts they own) whose outcome another piece changes are read
 * whole and folded over the range instead: people and cartIds with events in two pieces, the earlier leaving them open;
 * people who buy without a cartId in a later piece than one of their open carts; owners of a stale day's carts; and,
 * near the idle cutoff, those added to at or after it (lateKeys), which the totals count abandoned. The days' sets tell
 * which. A range of clean days reads one sum of its totals and pairs, however many carts it holds. With stale days (and
 * on SQLite always), call it in a transaction, so that its reads see one state of the rollups.
 */
export async function cartCounts(
  db: Db,
  appspaceId: number,
  days: readonly string[],
  stale: ReadonlySet<string>,
  withFlagged: boolean,
  idleCutoff = Infinity,
): Promise<CartCounts> {
  const staleDays = days.filter(d => stale.has(d));
  const stored = new StoredSums(appspaceId, days, staleDays, withFlagged);
  const late = await lateKeys(
    db,
    appspaceId,
    days.filter(d => !stale.has(d)),
    withFlagged,
    idleCutoff,
  );
  if (staleDays.length === 0 && late.size === 0) return stored.all(db);

  const pieces = piecesOf(days, stale);
  const counts = new Outcomes();
  counts.add(await stored.pairs(db));
  const totals = await stored.totals(db, pieces.length > 1);
  for (const t of totals.values()) counts.add(countsOf(t));

  const fresh = new CartDays(withFlagged, samePerson(db));
  await eachDayEvents(db, appspaceId, staleDays, CART_TYPES, page => fresh.add(page));
  const wanted = RoaringBitmap32.or(late, crossingGroups(pieces, stale, fresh, totals));
  const readDays = await groupDays(db, appspaceId, wanted, days, stale, withFlagged);
  // Their outcomes within their pieces, which the totals and pairs hold, give way to those over the range.
  for (const piece of pieces)
    if (piece.some(d => readDays.has(d))) counts.add(foldCarts(piece.map(d => readDays.get(d) ?? emptyDay())), -1);
  counts.add(
    foldCarts(
      days.map(d => (stale.has(d) ? fresh.days.get(d) : readDays.get(d)) ?? emptyDay()),
      idleCutoff,
    ),
  );
  return counts.counts();
}

/** The range cut into pieces: runs of clean days, and each stale day alone. */
function piecesOf(days: readonly string[], stale: ReadonlySet<string>): string[][] {
  const pieces: string[][] = [];
  for (const day of days) {
    if (stale.has(day) || pieces.length === 0 || stale.has(pieces[pieces.length - 1][0])) pieces.push([day]);
    else pieces[pieces.length - 1].push(day);
  }
  return pieces;
}

type Sums = { completed: unknown; abandoned: unknown; abandoned_value: unknown };
type DayTotals = Sums & { day: string; entities: Buffer; dangling: Buffer; cart_people: Buffer; plain_buyers: Buffer };

/** The totals count a day's carts as the day left them, none open: the open ones are folded apart (lateKeys). */
const countsOf = (s: Sums): CartCounts => ({
  completed: toNumber(s.completed),
  abandoned: toNumber(s.abandoned),
  abandonedValue: toNumber(s.abandoned_value),
  open: 0,
});

const SUMS = raw(
  "COALESCE(SUM(completed), 0) AS completed, COALESCE(SUM(abandoned), 0) AS abandoned, " +
    "COALESCE(SUM(abandoned_value), 0) AS abandoned_value",
);

/** Reads of a range's rollup_cart_totals and rollup_cart_pairs, in a variant. */
class StoredSums {
  private readonly first: string;
  private readonly last: string;
  private readonly flag: number;

  constructor(
    private readonly appspaceId: number,
    days: readonly string[],
    private readonly staleDays: readonly string[],
    withFlagged: boolean,
  ) {
    [this.first, this.last, this.flag] = [days[0], days[days.length - 1], withFlagged ? 1 : 0];
  }

  /** A range of clean days without late carts: one sum of its totals and pairs. */
  async all(db: Db): Promise<CartCounts> {
    const [sums] = await queryRows<Sums>(
      db,
      sql`SELECT ${SUMS} FROM (${this.totalsSql(raw("completed, abandoned, abandoned_value"))}
      UNION ALL ${this.pairsSql()}) s`,
    );
    return countsOf(sums);
  }

  async pairs(db: Db): Promise<CartCounts> {
    const [sums] = await queryRows<Sums>(db, sql`SELECT ${SUMS} FROM (${this.pairsSql()}) s`);
    return countsOf(sums);
  }

  /** The clean days' totals, by day; with their sets when the range has more than one piece. */
  async totals(db: Db, withSets: boolean): Promise<Map<string, DayTotals>> {
    const columns = raw(
      `day, completed, abandoned, abandoned_value${withSets ? ", entities, dangling, cart_people, plain_buyers" : ""}`,
    );
    const rows = await queryRows<DayTotals>(db, this.totalsSql(columns));
    const stale = new Set(this.staleDays);
    return new Map(rows.filter(t => !stale.has(t.day)).map(t => [t.day, t]));
  }

  private totalsSql(columns: Sql): Sql {
    return sql`SELECT ${columns} FROM rollup_cart_totals
      WHERE appspace_id = ${this.appspaceId} AND day >= ${this.first} AND day <= ${this.last} AND with_flagged =
      ${this.flag}`;
  }

  /** Pairs of days within one piece of clean days: no stale day between them, nor at either end. */
  private pairsSql(): Sql {
    const apart = joinSql(
      this.staleDays.map(d => sql` AND NOT (day_from <= ${d} AND day_to >= ${d})`),
      "",
    );
    return sql`SELECT completed, abandoned, abandoned_value FROM rollup_cart_pairs WHERE appspace_id =
      ${this.appspaceId}
      AND with_flagged = ${this.flag} AND day_from >= ${this.first} AND day_from <= ${this.last} AND day_to <=
      ${this.last}${apart}`;
  }
}

/** The rows of the groups of these hashes on the range's clean days, as the days' events in a variant. */
async function groupDays(
  db: Db,
  appspaceId: number,
  hashes: RoaringBitmap32,
  days: readonly string[],
  stale: ReadonlySet<string>,
  withFlagged: boolean,
): Promise<Map<string, DaySummaries>> {
  const read = new Map<string, DaySummaries>();
  for (const r of await groupRows(db, appspaceId, hashes, { from: days[0], to: days[days.length - 1], except: null })) {
    const state = withFlagged ? r.state_all : r.state;
    if (stale.has(r.day) || state === null) continue;
    let day = read.get(r.day);
    if (!day) read.set(r.day, (day = emptyDay()));
    addStored(day, r.kind, r.cart_key, state);
  }
  return read;
}

/**
 * The hashes of the people and cartIds whose groups another piece of the range changes: dangling in an earlier piece
 * and seen again; people buying without a cartId in a later piece than one of their carts left open; the owners of a
 * stale day's carts (a cart read from a clean day gives its owner through its row).
 */
function crossingGroups(
  pieces: readonly string[][],
  stale: ReadonlySet<string>,
  fresh: CartDays,
  stored: ReadonlyMap<string, DayTotals>,
): RoaringBitmap32 {
  const [dangling, owners, crossing] = [emptySet(), emptySet(), emptySet()];
  for (const piece of pieces) {
    const sets = emptySets();
    if (stale.has(piece[0])) {
      const day = fresh.days.get(piece[0]);
      if (!day) continue;
      addSets(sets, day);
      for (const events of day.carts.values()) {
        const owner = ownerOf(events);
        if (owner !== null) crossing.add(keyHash("p", owner));
      }
    } else if (pieces.length > 1) {
      for (const day of piece) {
        const t = stored.get(day);
        if (!t) continue;
        sets.entities.orInPlace(setOf(t.entities));
        sets.dangling.orInPlace(setOf(t.dangling));
        sets.cartPeople.orInPlace(setOf(t.cart_people));
        sets.plainBuyers.orInPlace(setOf(t.plain_buyers));
      }
    }
    crossing.orInPlace(RoaringBitmap32.and(dangling, sets.entities));
    crossing.orInPlace(RoaringBitmap32.and(owners, sets.plainBuyers));
    dangling.orInPlace(sets.dangling);
    owners.orInPlace(sets.cartPeople);
  }
  return crossing;
}
