import { Db, insertChunked, multiRowInsert } from "../db/sql";
import { dialectOf } from "../db/dialect";

/*
 * Rollups per pair of days (rollup_cart_pairs, rollup_funnel_pairs: cart-pairs.ts, funnel-pairs.ts). F(i..j) is what a
 * group (a person, or people linked through their carts) counts folded over days i to j. By inclusion-exclusion:
 *   F(i..j) = sum over i <= p <= q <= j of G(p, q),  G(p, q) = F(p..q) - F(p+1..q) - F(p..q-1) + F(p+1..q-1),
 * where G(p, p) is what day p counts alone and G(p, q), p < q, what the group's rows on both change. Summed over every
 * group per pair of days, a range sums the pairs inside it. G(p, q) reads the rows of days p to q only: new rows of a
 * day change the pairs around it, and only through the groups with rows on it.
 */

/** A group's fold from a day on: days are added one at a time, in order; `sums` is F of those so far. */
export interface Fold {
  add(day: string): void;
  sums(): number[];
}

/** Changes to a pairs table, per variant and pair of days, as sums of `width` columns. */
export class PairDeltas {
  private readonly deltas = new Map<string, number[]>();

  constructor(private readonly width: number) {}

  /**
   * Adds `sign` times G(p, q) of a group to the pairs p <= day <= q of `days` (its days with rows, and `day`,
   * ascending): p < q, or also p = q with `diagonal`. `fold()` starts a fold of the group.
   */
  addAround(
    withFlagged: boolean,
    days: readonly string[],
    day: string,
    fold: () => Fold,
    diagonal: boolean,
    sign: number,
  ): void {
    const k = days.indexOf(day);
    const sumsOver = foldedSums(days, k, fold, this.width);
    for (let i = 0; i <= k; i++) {
      for (let j = Math.max(k, diagonal ? i : i + 1); j < days.length; j++) {
        const [whole, fromNext, toPrevious, inner] = [
          sumsOver(i, j),
          sumsOver(i + 1, j),
          sumsOver(i, j - 1),
          sumsOver(i + 1, j - 1),
        ];
        const pairDelta = whole.map((x, n) => x - fromNext[n] - toPrevious[n] + inner[n]);
        if (pairDelta.some(x => x !== 0))
          this.addDelta(`${withFlagged ? 1 : 0}|${days[i]}|${days[j]}`, pairDelta, sign);
      }
    }
  }

  private addDelta(key: string, delta: readonly number[], sign: number): void {
    let sums = this.deltas.get(key);
    if (!sums) this.deltas.set(key, (sums = Array<number>(this.width).fill(0)));
    delta.forEach((x, n) => (sums![n] += sign * x));
  }

  /** The changes so far: per "variant|day_from|day_to", the sums of the columns (none all zero). */
  entries(): Map<string, number[]> {
    return new Map([...this.deltas].filter(([, delta]) => delta.some(x => x !== 0)));
  }

  /** Adds the changes to `table` (keyed by appspace_id, with_flagged, day_from, day_to; then the `sums` columns). */
  async write(db: Db, table: string, sums: readonly string[], appspaceId: number): Promise<void> {
    const rows = [...this.entries()].map(([key, delta]) => {
      const [withFlagged, from, to] = key.split("|");
      return [appspaceId, Number(withFlagged), from, to, ...delta];
    });
    const columns = ["appspace_id", "with_flagged", "day_from", "day_to", ...sums];
    const add = Object.fromEntries(sums.map(c => [c, (stored: string, incoming: string) => `${stored} + ${incoming}`]));
    const tail = dialectOf(db).onConflict(table, ["appspace_id", "with_flagged", "day_from", "day_to"], add);
    await insertChunked(db, r => multiRowInsert(table, columns, r, tail), columns.length, rows);
  }
}

/**
 * F(i..j) of a group for the i and j the pairs around day k read (i <= k + 1, j >= k - 1), as a lookup; F of an
 * empty range (i > j) is all zeros. Each fold starts at day i and takes the days after it one at a time.
 */
function foldedSums(
  days: readonly string[],
  k: number,
  fold: () => Fold,
  width: number,
): (i: number, j: number) => number[] {
  const none = Array<number>(width).fill(0);
  const sums: number[][][] = days.map(() => []);
  for (let i = 0; i <= Math.min(k + 1, days.length - 1); i++) {
    const f = fold();
    for (let j = i; j < days.length; j++) {
      f.add(days[j]);
      if (j >= k - 1) sums[i][j] = f.sums();
    }
  }
  return (i, j) => (i > j ? none : sums[i][j]);
}
