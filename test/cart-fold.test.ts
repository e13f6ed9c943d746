import { CartDays, CartDayTotals, foldCarts, DaySummaries, emptyDay } from "../src/reports/carts/cart-days";
import { DayEvent } from "../src/events/day-events";

/*
 * The cart fold (src/reports/carts/cart-days.ts) alone: the rules of cartAbandonment in docs/reports.md, one at a time, and a day
 * collected in parts (as the refresher reads a busy day) counted as the whole day.
 */

let nextId = 1;
const at = (day: string, time: string) => Date.parse(`2026-03-${day}T${time}:00Z`);

/** A cart event: person, cartId (null: none), time, and units of item "a" (price 10). */
function ev(type: string, person: string, cartId: string | null, day: string, time: string, quantity = 1): DayEvent {
  return {
    day: `2026-03-${day}`, id: nextId++, type, at: at(day, time), cartId, person, flagged: false, campaign: null, source: null, medium: null,
    lines: type === "PURCHASE" ? [] : [{ line: 1, itemId: "a", quantity, price: type === "ADD_TO_CART" ? 1000 : null }], ofPerson: true, ofCart: true,
  };
}

/** The days' summaries of these events, oldest day first. */
function daysOf(events: DayEvent[]): DaySummaries[] {
  const collected = new CartDays(false, p => p);
  collected.add([...events].sort((a, b) => a.at - b.at || a.id - b.id));
  return [...collected.days.keys()].sort().map(d => collected.days.get(d)!);
}

const fold = (events: DayEvent[], idleCutoff = Infinity) => foldCarts(daysOf(events), idleCutoff);

describe("the cart fold", () => {
  it("a purchase without a cartId completes its person's most recent open cart, and that one only", () => {
    const events = [ev("ADD_TO_CART", "p", "c1", "02", "10:00"), ev("ADD_TO_CART", "p", "c2", "02", "11:00", 2), ev("PURCHASE", "p", null, "03", "10:00")];
    expect(fold(events)).toEqual({ completed: 1, abandoned: 1, abandonedValue: 1000, open: 0 });
    // An add to c1 after c2's makes c1 the most recent: c2 is left.
    expect(fold([...events, ev("ADD_TO_CART", "p", "c1", "02", "12:00")])).toEqual({ completed: 1, abandoned: 1, abandonedValue: 2000, open: 0 });
    // A second purchase completes the other.
    expect(fold([...events, ev("PURCHASE", "p", null, "04", "10:00")])).toMatchObject({ completed: 2, abandoned: 0 });
    // A purchase before any add completes nothing.
    expect(fold([ev("PURCHASE", "p", null, "01", "10:00"), ...events])).toMatchObject({ completed: 1, abandoned: 1 });
  });

  it("the cart without id competes with cartId carts, and a new one starts after its purchase", () => {
    const events = [ev("ADD_TO_CART", "p", "c1", "02", "10:00"), ev("ADD_TO_CART", "p", null, "02", "11:00"), ev("PURCHASE", "p", null, "02", "12:00"),
      ev("ADD_TO_CART", "p", null, "02", "13:00")];
    // The purchase completes the cart without id (added to last); the add after it starts another, abandoned with c1.
    expect(fold(events)).toEqual({ completed: 1, abandoned: 2, abandonedValue: 2000, open: 0 });
  });

  it("a purchase carrying a cartId completes that cart, and not the person's others", () => {
    const events = [ev("ADD_TO_CART", "p", "c1", "02", "10:00"), ev("ADD_TO_CART", "p", null, "02", "11:00"), ev("PURCHASE", "p", "c1", "02", "12:00")];
    expect(fold(events)).toEqual({ completed: 1, abandoned: 1, abandonedValue: 1000, open: 0 });
    // Added to after its purchase, a completed cart stays completed.
    expect(fold([...events, ev("ADD_TO_CART", "p", "c1", "03", "10:00")])).toEqual({ completed: 1, abandoned: 1, abandonedValue: 1000, open: 0 });
  });

  it("a cartId cart belongs to the person of its first add", () => {
    const events = [ev("ADD_TO_CART", "q", "c1", "02", "10:00"), ev("ADD_TO_CART", "p", "c1", "02", "11:00"), ev("PURCHASE", "p", null, "03", "10:00")];
    expect(fold(events)).toEqual({ completed: 0, abandoned: 1, abandonedValue: 2000, open: 0 });
    expect(fold([...events, ev("PURCHASE", "q", null, "03", "11:00")])).toMatchObject({ completed: 1, abandoned: 0 });
  });

  it("an emptied cart is neither completed nor abandoned, and a purchase passes it over", () => {
    const emptied = [ev("ADD_TO_CART", "p", "c1", "02", "10:00"), ev("ADD_TO_CART", "p", "c2", "02", "11:00"), ev("REMOVE_FROM_CART", "p", "c2", "02", "11:30")];
    expect(fold(emptied)).toEqual({ completed: 0, abandoned: 1, abandonedValue: 1000, open: 0 });
    expect(fold([...emptied, ev("PURCHASE", "p", null, "03", "10:00")])).toEqual({ completed: 1, abandoned: 0, abandonedValue: 0, open: 0 });
    expect(fold([...emptied, ev("PURCHASE", "p", "c2", "03", "10:00")])).toEqual({ completed: 0, abandoned: 1, abandonedValue: 1000, open: 0 });
    // Added to again, it is open again.
    expect(fold([...emptied, ev("ADD_TO_CART", "p", "c2", "02", "12:00", 3)])).toEqual({ completed: 0, abandoned: 2, abandonedValue: 4000, open: 0 });
  });

  it("a removal takes away at most the units held", () => {
    const events = [ev("ADD_TO_CART", "p", null, "02", "10:00", 2), ev("REMOVE_FROM_CART", "p", null, "02", "11:00", 5), ev("ADD_TO_CART", "p", null, "03", "10:00")];
    expect(fold(events)).toEqual({ completed: 0, abandoned: 1, abandonedValue: 1000, open: 0 });
  });

  it("a cart added to at or after the idle cutoff is open, before it abandoned", () => {
    const events = [ev("ADD_TO_CART", "p", "c1", "02", "10:00"), ev("ADD_TO_CART", "q", null, "02", "11:00")];
    expect(fold(events, at("02", "11:00"))).toEqual({ completed: 0, abandoned: 1, abandonedValue: 1000, open: 1 });
    expect(fold(events, at("02", "11:01"))).toEqual({ completed: 0, abandoned: 2, abandonedValue: 2000, open: 0 });
  });

  it("a day collected in parts counts as the whole day (random days of eight people and their carts)", () => {
    let seed = 20261205;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 200; round++) {
      const events = Array.from({ length: 30 }, () => {
        const person = `p${random(8)}`;
        const cartId = random(3) === 0 ? null : `c${random(6)}`;
        const type = ["ADD_TO_CART", "ADD_TO_CART", "REMOVE_FROM_CART", "PURCHASE"][random(4)];
        return ev(type, person, cartId, "02", `1${random(10)}:${String(random(60)).padStart(2, "0")}`, 1 + random(3));
      }).sort((a, b) => a.at - b.at || a.id - b.id);
      const whole = fold(events);
      const totals = new CartDayTotals();
      // Three parts, by the last character of the person and of the cartId, as the refresher splits a day.
      for (let part = 0; part < 3; part++) {
        const inPart = (key: string | null) => key !== null && key.charCodeAt(key.length - 1) % 3 === part;
        const collected = new CartDays(false, p => p);
        collected.add(events.map(e => ({ ...e, ofPerson: inPart(e.person), ofCart: inPart(e.cartId) })));
        totals.add(collected.days.get("2026-03-02") ?? emptyDay());
      }
      const [completed, abandoned, abandonedValue] = totals.columns()!;
      expect({ completed, abandoned, abandonedValue }).toEqual({ completed: whole.completed, abandoned: whole.abandoned, abandonedValue: whole.abandonedValue });
    }
  });
});
