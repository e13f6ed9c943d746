import { queryRows, sql } from "../../db/query";
import { Db, toNumber } from "../../db/sql";
import { addStored, CartFold, CartRow, cartRowHashes, DaySummaries, emptyDay, groupRows } from "./cart-days";
import { PairDeltas } from "../../rollups/pairs";

/*
 * What carts spanning days add to a range, per pair of days (rollup_cart_pairs; pairs.ts), so that a range of clean
 * days sums its days' totals (rollup_cart_totals: G(p, p)) and its pairs instead of reading and folding the carts that
 * span its days. A group is a person with the carts they own (their purchases without a cartId choose among them),
 * folded as foldCarts folds them (cart-days.ts).
 */

export const dayCartRows = (db: Db, appspaceId: number, day: string) =>
  queryRows<CartRow>(
    db,
    sql`SELECT r.day, r.kind, r.cart_key, r.key_hash, r.state, r.person_hash, r.state_all, r.person_hash_all
    FROM rollup_carts r WHERE r.appspace_id = ${appspaceId} AND r.day = ${day}`,
  );

/**
 * Brings rollup_cart_pairs in line with a day's rows of rollup_carts, just replaced (in the caller's transaction):
 * `before` were its rows, the table holds the new ones. The people and cartIds of either, and the owners of their
 * carts, are followed through the rows of other days to every cart and person linked to them (groupRows); for those
 * groups with rows on other days, the pairs around the day go from what the old rows made of them to what the new ones
 * make.
 */
export async function updateCartPairs(
  db: Db,
  appspaceId: number,
  day: string,
  before: readonly CartRow[],
): Promise<void> {
  const after = await dayCartRows(db, appspaceId, day);
  const others = await groupRows(db, appspaceId, [...before, ...after].flatMap(cartRowHashes), {
    from: null,
    to: null,
    except: day,
  });
  if (others.length === 0) return;

  // Groups: a person's rows with those of the carts they own, by hash (two people sharing one only make a larger
  // group).
  const groups = new Groups();
  const nodes = (r: CartRow) => [
    `${r.kind}|${r.cart_key}`,
    ...(r.kind === "p" ? [r.key_hash] : [r.person_hash, r.person_hash_all])
      .filter(h => h !== null)
      .map(h => `#${toNumber(h)}`),
  ];
  for (const r of [...others, ...before, ...after]) groups.join(nodes(r));
  type Members = { others: CartRow[]; before: CartRow[]; after: CartRow[] };
  const members = new Map<string, Members>();
  const memberOf = (r: CartRow) => {
    const root = groups.find(`${r.kind}|${r.cart_key}`);
    let m = members.get(root);
    if (!m) members.set(root, (m = { others: [], before: [], after: [] }));
    return m;
  };
  for (const r of others) memberOf(r).others.push(r);
  for (const r of before) memberOf(r).before.push(r);
  for (const r of after) memberOf(r).after.push(r);

  const deltas = new PairDeltas(3);
  for (const m of members.values()) {
    if (m.others.length === 0) continue;
    for (const withFlagged of [false, true]) {
      addPairs(deltas, withFlagged, day, [...m.others, ...m.after], 1);
      addPairs(deltas, withFlagged, day, [...m.others, ...m.before], -1);
    }
  }
  await deltas.write(db, "rollup_cart_pairs", ["completed", "abandoned", "abandoned_value"], appspaceId);
}

/** Adds `sign` times G(p, q) of a group's rows (in a variant) for every pair of days p < q with p <= day <= q. */
function addPairs(deltas: PairDeltas, withFlagged: boolean, day: string, rows: readonly CartRow[], sign: number): void {
  const byDay = new Map<string, DaySummaries>();
  for (const r of rows) {
    const state = withFlagged ? r.state_all : r.state;
    if (state === null) continue;
    let summaries = byDay.get(r.day);
    if (!summaries) byDay.set(r.day, (summaries = emptyDay()));
    addStored(summaries, r.kind, r.cart_key, state);
  }
  const fold = () => {
    const carts = new CartFold();
    return {
      add: (d: string) => carts.add(byDay.get(d) ?? emptyDay()),
      sums: () => {
        const c = carts.counts();
        return [c.completed, c.abandoned, c.abandonedValue];
      },
    };
  };
  deltas.addAround(withFlagged, [...new Set([...byDay.keys(), day])].sort(), day, fold, false, sign);
}

/** Union-find over names. */
class Groups {
  private readonly parent = new Map<string, string>();

  find(node: string): string {
    let root = node;
    for (let up = this.parent.get(root); up !== undefined && up !== root; up = this.parent.get(root)) root = up;
    // Path compression: every node on the way points at the root.
    for (let n = node; n !== root;) {
      const up = this.parent.get(n)!;
      this.parent.set(n, root);
      n = up;
    }
    return root;
  }

  join(nodes: readonly string[]): void {
    const root = this.find(nodes[0]);
    if (!this.parent.has(root)) this.parent.set(root, root);
    for (const n of nodes.slice(1)) {
      const other = this.find(n);
      if (other !== root) this.parent.set(other, root);
    }
  }
}
