import { EntityManager } from "typeorm";
import { inList, queryRows, raw, sql, Sql } from "../db/query";
import { dayOf } from "../db/dialect";
import { isMysql, toNumber } from "../db/sql";
import { taggedFlag } from "./event-sql";

/*
 * The event store's reads and deletes of whole events (rows of events with their event_items, event_properties and
 * the orders their purchases hold). Inserts are ingest's (src/ingest/event-writer.ts).
 */

/** An event written or about to be deleted: its type, UTC day (YYYY-MM-DD), order, and whether it carries a channel. */
export interface ChangedEvent {
  type: string;
  day: string;
  transactionId: string | null;
  /**
   * It carries a campaign, source or medium: purchases of the next 24 hours may be credited to it (creditedPurchases).
   */
  tagged: boolean;
}

/** The event types of an order (a row of `orders` per transactionId). */
export const ORDER_TYPES: ReadonlySet<string> = new Set(["PURCHASE", "REFUND", "CANCEL", "FULFILL"]);

/**
 * On MySQL, locks the rows of `orders` of these events' orders (in transactionId order) before their events, as
 * ingest does (claimOrders): a deletion and a write of the same orders then wait for each other instead of deadlocking.
 */
export async function lockOrdersOf(
  em: EntityManager,
  appspaceId: number,
  events: readonly StoredEvent[],
): Promise<void> {
  const orders = [
    ...new Set(events.flatMap(e => (e.transactionId !== null && ORDER_TYPES.has(e.type) ? [e.transactionId] : []))),
  ].sort();
  if (orders.length === 0 || !isMysql(em)) return;
  await queryRows(
    em,
    sql`SELECT transaction_id FROM orders WHERE appspace_id = ${appspaceId} AND transaction_id IN (${inList(orders)})
    ORDER BY transaction_id FOR UPDATE`,
  );
}

/** A stored event, as its deletion needs it: row id, type, UTC day and order. */
export interface StoredEvent extends ChangedEvent {
  id: number;
}

/** Up to `limit` of the appspace's events that match `where` (on `events`), in `order`. */
export async function selectEvents(
  em: EntityManager,
  appspaceId: number,
  where: Sql,
  order: string,
  limit: number,
): Promise<StoredEvent[]> {
  const query = sql`SELECT id, event_type AS type, ${dayOf(em, "occurred_at")} AS day, transaction_id AS transactionId,
    ${taggedFlag("events")} AS tagged
    FROM events WHERE appspace_id = ${appspaceId} AND ${where} ORDER BY ${raw(order)} LIMIT ${limit}`;
  const rows = await queryRows<StoredEvent & { id: unknown; tagged: unknown }>(em, query);
  return rows.map(r => ({ ...r, id: toNumber(r.id), tagged: toNumber(r.tagged) === 1 }));
}

/**
 * Deletes events of one appspace with their items, properties and orders' purchases, in the caller's
 * transaction (after lockOrdersOf, and the marks of the days they change: deleteAndMark).
 */
export async function deleteEventRows(
  em: EntityManager,
  appspaceId: number,
  events: readonly StoredEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const idList = inList(events.map(e => e.id));
  for (const table of ["event_items", "event_properties"]) {
    await queryRows(
      em,
      sql`DELETE FROM ${raw(table)} WHERE appspace_id = ${appspaceId} AND event_row_id IN (${idList})`,
    );
  }
  await queryRows(em, sql`DELETE FROM events WHERE appspace_id = ${appspaceId} AND id IN (${idList})`);
  const orders = [
    ...new Set(events.flatMap(e => (ORDER_TYPES.has(e.type) && e.transactionId !== null ? [e.transactionId] : []))),
  ];
  if (orders.length > 0) await freeOrders(em, appspaceId, orders, idList);
}

/**
 * An order whose purchase went is free again: a purchase sent later counts. Its row stays, with no purchase, while
 * other events of the order remain (refunds and cancels on days retention keeps), so that the purchase that fills it
 * finds them (restateRefunds): a new row means an order never seen (claimOrders' `made`). The row of an order with no
 * event left goes (a deletion takes orders whole, purchases last; retention purges its last refund).
 */
async function freeOrders(
  em: EntityManager,
  appspaceId: number,
  orders: readonly string[],
  purchaseIds: Sql,
): Promise<void> {
  const ofOrders = sql`appspace_id = ${appspaceId} AND transaction_id IN (${inList(orders)})`;
  await queryRows(
    em,
    sql`UPDATE orders SET purchase_row_id = NULL WHERE ${ofOrders} AND purchase_row_id IN (${purchaseIds})`,
  );
  await queryRows(
    em,
    sql`DELETE FROM orders WHERE ${ofOrders} AND purchase_row_id IS NULL
    AND NOT EXISTS (SELECT 1 FROM events e WHERE e.appspace_id = orders.appspace_id AND e.transaction_id = orders.transaction_id)`,
  );
}
