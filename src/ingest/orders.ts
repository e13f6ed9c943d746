import { EntityManager } from "typeorm";
import { inList, queryRows, sql } from "../db/query";
import { dayOf } from "../db/dialect";
import { isMysql, multiRowInsert, toNumber } from "../db/sql";
import { ChangedEvent, ORDER_TYPES } from "../events/event-store";
import { orderEvents, taggedFlag } from "../events/event-sql";
import { EventType } from "../events/event-type";
import { NormalizedEvent } from "./validate";

/** An event about to be written, with its pre-allocated row id. */
export interface Pending {
  e: NormalizedEvent;
  id: number;
}

/** Types that follow their order: flagged exactly when its purchase is (refunds, cancels and fulfilments). */
const FOLLOWS_ORDER: ReadonlySet<string> = new Set([EventType.REFUND, EventType.CANCEL, EventType.FULFILL]);

/** The PURCHASE that counts for an order, and its fraud flags; `made`: the order's row was made by this batch. */
interface Holder {
  purchaseId: number | null;
  flags: string | null;
  made: boolean;
}

/** What claimOrders decided. */
export interface Claimed {
  /** The events that are not duplicates. */
  kept: Pending[];
  /** Orders first seen in this batch: no refund of theirs can be stored before (restateRefunds has nothing to do). */
  made: Set<string>;
}

/**
 * Locks the orders these events belong to (their rows of `orders`, made on first sight, in transactionId order, so
 * that two writers lock them in one order) and decides what of them is stored:
 * - a PURCHASE counts when it is the first of its order, whenever the order is re-sent (a later one is a duplicate);
 * - a REFUND, CANCEL or FULFILL of an order whose purchase is stored takes the purchase's flags (set on its event
 *   here), so that a report without flagged events leaves out both or neither.
 * Holding the order's row until the commit, the caller's transaction is the only writer of the order's events:
 * restateRefunds then finds every refund stored before the purchase.
 */
export async function claimOrders(em: EntityManager, appspaceId: number, rows: readonly Pending[]): Promise<Claimed> {
  const firstPurchase = new Map<string, Pending | null>();
  for (const r of rows) {
    const order = r.e.transactionId;
    if (order === null || !ORDER_TYPES.has(r.e.eventType)) continue;
    if (r.e.eventType === EventType.PURCHASE && !firstPurchase.get(order)) firstPurchase.set(order, r);
    else if (!firstPurchase.has(order)) firstPurchase.set(order, null);
  }
  if (firstPurchase.size === 0) return { kept: [...rows], made: new Set() };

  const followed = new Set(rows.filter(r => FOLLOWS_ORDER.has(r.e.eventType)).map(r => r.e.transactionId!));
  const holders = await lockOrders(em, appspaceId, firstPurchase, followed);
  const holderOf = (e: NormalizedEvent) => holders.get(e.transactionId!)!;
  for (const { e } of rows) {
    if (FOLLOWS_ORDER.has(e.eventType) && holderOf(e).purchaseId !== null) e.flags = holderOf(e).flags;
  }
  return {
    kept: rows.filter(r => r.e.eventType !== EventType.PURCHASE || r.e.transactionId === null || holderOf(r.e).purchaseId === r.id),
    made: new Set([...holders].filter(([, h]) => h.made).map(([order]) => order)),
  };
}

/**
 * Upserts the orders' rows (a purchase fills an empty one) and returns who holds each; the flags of a holder not in
 * the batch are read only for the orders in `followed` (which have refunds, cancels or fulfilments in the batch).
 */
async function lockOrders(em: EntityManager, appspaceId: number, firstPurchase: Map<string, Pending | null>, followed: ReadonlySet<string>): Promise<Map<string, Holder>> {
  const orders = [...firstPurchase.keys()].sort();
  const values = orders.map(order => [appspaceId, order, firstPurchase.get(order)?.id ?? null]);
  const lonePurchase = orders.length === 1 && firstPurchase.get(orders[0]) !== null;
  const columns = ["appspace_id", "transaction_id", "purchase_row_id"];
  // On MySQL, a lone purchase learns the holder from the statement itself: LAST_INSERT_ID(x) makes x the insert id.
  const fill = lonePurchase ? "LAST_INSERT_ID(COALESCE(purchase_row_id, VALUES(purchase_row_id)))" : "COALESCE(purchase_row_id, VALUES(purchase_row_id))";
  const [text, params] = isMysql(em)
    ? multiRowInsert("orders", columns, values, `ON DUPLICATE KEY UPDATE purchase_row_id = ${fill}`)
    : multiRowInsert("orders", columns, values,
      "ON CONFLICT (appspace_id, transaction_id) DO UPDATE SET purchase_row_id = excluded.purchase_row_id WHERE orders.purchase_row_id IS NULL");
  const result: { info?: string; affectedRows?: number; insertId?: unknown } | undefined = await em.query(text, params);

  const ours = (order: string, made = false): Holder => {
    const p = firstPurchase.get(order)!;
    return { purchaseId: p?.id ?? null, flags: p?.e.flags ?? null, made };
  };
  // MySQL sums up a multi-row insert as "Records: n  Duplicates: d  Warnings: w" and counts 1 affected row per insert:
  // no duplicate and one row each means every row is new, whatever the connection flags. A one-row insert has no
  // summary; a lone purchase's insert id is 0 for a new row, else the holder.
  const allNew = /\bDuplicates: 0\b/.test(result?.info ?? "") && result?.affectedRows === orders.length;
  const holder = isMysql(em) && lonePurchase ? Number(result?.insertId ?? NaN) : NaN;
  if (allNew || holder === 0) return new Map(orders.map(order => [order, ours(order, true)]));
  if (holder === ours(orders[0]).purchaseId) return new Map([[orders[0], ours(orders[0])]]);
  // Held by an earlier purchase: its flags matter only to the order's other events in the batch.
  if (Number.isSafeInteger(holder) && !followed.has(orders[0])) return new Map([[orders[0], { purchaseId: holder, flags: null, made: false }]]);

  type Held = { transaction_id: string; purchase_row_id: unknown; flags: string | null };
  const held = await queryRows<Held>(em, sql`SELECT o.transaction_id, o.purchase_row_id, p.flags
    FROM orders o LEFT JOIN events p ON p.id = o.purchase_row_id
    WHERE o.appspace_id = ${appspaceId} AND o.transaction_id IN (${inList(orders)})`);
  return new Map(held.map(h => {
    const purchaseId = h.purchase_row_id === null ? null : Number(h.purchase_row_id);
    return [h.transaction_id, purchaseId !== null && purchaseId === firstPurchase.get(h.transaction_id)?.id ? ours(h.transaction_id) : { purchaseId, flags: h.flags, made: false }];
  }));
}

/** Gives back the orders of PURCHASEs that were not stored after all (dropped for a repeated eventId). */
export async function releaseOrders(em: EntityManager, appspaceId: number, purchases: readonly Pending[]): Promise<void> {
  if (purchases.length === 0) return;
  await queryRows(em, sql`UPDATE orders SET purchase_row_id = NULL WHERE appspace_id = ${appspaceId}
    AND transaction_id IN (${inList(purchases.map(p => p.e.transactionId))}) AND purchase_row_id IN (${inList(purchases.map(p => p.id))})`);
}

/**
 * A stored event whose flags changed: counted in the ingestion stats of its day of receipt as it was, and now; its
 * own day's rollups (and the next day's, for a channel) change with it.
 */
export interface Restated extends ChangedEvent {
  receivedDay: string;
  was: string | null;
  now: string | null;
}

/**
 * Gives the refunds, cancels and fulfilments stored before these purchases arrived their purchase's flags, in the caller's
 * transaction (which holds the orders' rows: claimOrders). Returns what changed, for the ingestion stats and the
 * caller's marks of their days (markChangedDays).
 */
export async function restateRefunds(em: EntityManager, appspaceId: number, purchases: readonly Pending[]): Promise<Restated[]> {
  const flagsOf = new Map(purchases.filter(p => p.e.transactionId !== null).map(p => [p.e.transactionId!, p.e.flags]));
  if (flagsOf.size === 0) return [];
  type Row = { id: unknown; event_type: string; transaction_id: string; flags: string | null; received_day: string; day: string; tagged: unknown };
  const refunds = await queryRows<Row>(em, sql`
    SELECT e.id, e.event_type, e.transaction_id, e.flags, ${dayOf(em, "e.received_at")} AS received_day, ${dayOf(em, "e.occurred_at")} AS day,
      ${taggedFlag("e")} AS tagged FROM ${orderEvents(em, "e")}
    WHERE e.appspace_id = ${appspaceId} AND e.transaction_id IN (${inList([...flagsOf.keys()])}) AND e.event_type IN ('REFUND', 'CANCEL', 'FULFILL')`);
  const changed = refunds.filter(r => r.flags !== flagsOf.get(r.transaction_id));
  const byFlags = new Map<string | null, number[]>();
  for (const r of changed) {
    const flags = flagsOf.get(r.transaction_id)!;
    byFlags.set(flags, [...(byFlags.get(flags) ?? []), Number(r.id)]);
  }
  for (const [flags, ids] of byFlags) {
    await queryRows(em, sql`UPDATE events SET flags = ${flags} WHERE appspace_id = ${appspaceId} AND id IN (${inList(ids)})`);
  }
  return changed.map(r => ({
    receivedDay: r.received_day, was: r.flags, now: flagsOf.get(r.transaction_id)!,
    type: r.event_type, day: r.day, transactionId: r.transaction_id, tagged: toNumber(r.tagged) === 1,
  }));
}
