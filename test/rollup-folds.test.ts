import { Fold, PairDeltas } from "../src/rollups/pairs";
import { FUNNEL_TYPES, movesOf, stepAfter } from "../src/reports/funnel/funnel.service";

/*
 * Unit specs of the rollups' folds, on hand-worked cases: the pairs' inclusion-exclusion (src/rollups/pairs.ts) and
 * the funnel's step over days (movesOf, stepAfter). The cart fold has its own (test/cart-fold.test.ts).
 */

/** A fold of one group: F(days) = 1 once the group was active on two days or more ("came back"), else 0. */
const cameBack = (active: ReadonlySet<string>) => (): Fold => {
  let days = 0;
  return { add: day => void (active.has(day) && days++), sums: () => [days >= 2 ? 1 : 0] };
};

describe("pairs of days: inclusion-exclusion", () => {
  it("a group active on a, b and c: G(a,b) = 1, G(b,c) = 1, G(a,c) = -1, and nothing on a day alone", () => {
    // F(a..a) = F(b..b) = 0; F(a..b) = F(b..c) = F(a..c) = 1. G(a,c) = F(a..c) - F(b..c) - F(a..b) + F(b..b) = -1.
    const deltas = new PairDeltas(1);
    deltas.addAround(false, ["a", "b", "c"], "b", cameBack(new Set(["a", "b", "c"])), true, 1);
    expect(Object.fromEntries(deltas.entries())).toEqual({ "0|a|b": [1], "0|a|c": [-1], "0|b|c": [1] });
  });

  it("the pairs around a day are the only ones it touches, and a sign of -1 takes them back", () => {
    const deltas = new PairDeltas(1);
    const fold = cameBack(new Set(["a", "b", "c", "d"]));
    deltas.addAround(true, ["a", "b", "c", "d"], "d", fold, false, 1);
    // Pairs ending on d: G(c,d) = 1, G(b,d) = F(b..d) - F(c..d) - F(b..c) + F(c..c) = 1 - 1 - 1 + 0 = -1, G(a,d) = 1 - 1 - 1 + 1 = 0.
    expect(Object.fromEntries(deltas.entries())).toEqual({ "1|b|d": [-1], "1|c|d": [1] });
    deltas.addAround(true, ["a", "b", "c", "d"], "d", fold, false, -1);
    expect(deltas.entries().size).toBe(0);
  });

  it("summed over the pairs inside any range, G gives back F of that range (random groups)", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const days = ["d1", "d2", "d3", "d4", "d5", "d6"];
    for (let round = 0; round < 200; round++) {
      const active = new Set(days.filter(() => rand() < 0.5));
      const fold = cameBack(active);
      // Every pair once: the pairs (p, q) with q the day they are added around, diagonal included.
      const deltas = new PairDeltas(1);
      for (let q = 0; q < days.length; q++) {
        const upTo = days.slice(0, q + 1);
        deltas.addAround(false, upTo, days[q], fold, true, 1);
      }
      const pairs = deltas.entries();
      for (let i = 0; i < days.length; i++) {
        for (let j = i; j < days.length; j++) {
          let sum = 0;
          for (const [key, [g]] of pairs) {
            const [, p, q] = key.split("|");
            if (p >= days[i] && q <= days[j]) sum += g;
          }
          const whole = fold();
          days.slice(i, j + 1).forEach(d => whole.add(d));
          expect([round, i, j, sum]).toEqual([round, i, j, whole.sums()[0]]);
        }
      }
    }
  });
});

describe("the funnel's step over days", () => {
  const none = () => FUNNEL_TYPES.map(() => [] as number[]);
  const timesOf = (events: [step: number, at: number][]) => {
    const times = none();
    for (const [step, at] of events) times[step].push(at);
    return times;
  };

  it("moves: for each step a person may wait for, the step they wait for after the day", () => {
    // View at 1, add to cart at 2, checkout at 4, no view_cart: waiting for steps 0 to 2, they end waiting for
    // view_cart (2); waiting for checkout (3), the checkout takes them to 4; from 4 and 5 nothing moves them.
    expect(movesOf(timesOf([[0, 1], [1, 2], [3, 4]]))).toBe("222445");
    // Waiting for step 2 (view_cart): the day's view_cart at 0 and checkout at 4 take them to step 4.
    expect(movesOf(timesOf([[2, 0], [3, 4]]))).toBe("014445");
    expect(movesOf(none())).toBe("012345");
  });

  it("a step reached on one day carries to the next: view and cart today, checkout steps tomorrow", () => {
    const today = movesOf(timesOf([[0, 10], [1, 20]]));
    const tomorrow = movesOf(timesOf([[2, 100], [3, 110], [4, 120], [5, 130]]));
    expect(stepAfter([today, tomorrow])).toBe(6);
    // In the other order, the purchase comes before anything: only the view and the cart count.
    expect(stepAfter([tomorrow, today])).toBe(2);
  });

  it("folding day by day equals one walk over all the events (random people)", () => {
    let seed = 777;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 500; round++) {
      const events: [number, number][] = Array.from({ length: Math.floor(rand() * 12) }, () => [Math.floor(rand() * 6), Math.floor(rand() * 300)]);
      events.sort((a, b) => a[1] - b[1]);
      // Days of 100 time units each.
      const byDay = [0, 1, 2].map(d => movesOf(timesOf(events.filter(([, at]) => Math.floor(at / 100) === d))));
      expect([round, stepAfter(byDay)]).toEqual([round, Number(movesOf(timesOf(events))[0])]);
    }
  });
});
