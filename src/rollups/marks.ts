import { EntityManager } from "typeorm";
import { inList, joinSql, queryRows, raw, Sql, sql } from "../db/query";
import { dayOf, dialectOf } from "../db/dialect";
import { Db, multiRowInsert, toNumber, Writes } from "../db/sql";
import { addDays } from "../days";
import { orderEvents, taggedFlag } from "../events/event-sql";
import { ChangedEvent, deleteEventRows, lockOrdersOf, StoredEvent } from "../events/event-store";

/*
 * Stale-day marks: rollup_dirty is a log of (appspace, day) rows. Whoever changes what a day's rollups sum marks the
 * day in the same transaction, so the mark commits or rolls back with the change; reports read a marked day from raw
 * events, and the refresher recomputes it and takes its marks.
 */

/** Purchases, refunds and cancels: what a refund takes back depends on its order's purchase and earlier refunds. */
const SALES_TYPES: ReadonlySet<string> = new Set(["PURCHASE", "REFUND", "CANCEL"]);

/**
 * The days whose rollups an event of `day` changes: its own, and the next when it carries a channel (purchases of the
 * next 24 hours may be credited to it).
 */
const daysOfEvent = (day: string, tagged: boolean) => (tagged ? [day, addDays(day, 1)] : [day]);

/**
 * Marks stale, in the caller's transaction (so the mark commits or rolls back with the change), the days whose rollups
 * these events change: their own day (every event counts in the reach of its channel), and for purchases, refunds and
 * cancels the days of their orders' refunds, since what a refund takes back depends on its order's purchase and the
 * refunds before it; for events with a channel, the next day (daysOfEvent). The marks are appended to a log instead of
 * updating a row per day, so concurrent writers never wait on each other. With `writes`, the marks go with them (sent
 * by the caller).
 */
export async function markChangedDays(
  em: Db | EntityManager,
  appspaceId: number,
  events: readonly ChangedEvent[],
  writes?: Writes,
): Promise<void> {
  if (events.length === 0) return;
  const refundDays = await refundDaysOf(
    em,
    appspaceId,
    events.flatMap(e => (e.transactionId === null || !SALES_TYPES.has(e.type) ? [] : [e.transactionId])),
  );
  await markDays(em, appspaceId, [...events.flatMap(e => daysOfEvent(e.day, e.tagged)), ...refundDays], writes);
}

async function markDays(
  em: Db | EntityManager,
  appspaceId: number,
  days: readonly string[],
  writes?: Writes,
): Promise<void> {
  if (days.length === 0) return;
  const rows = [...new Set(days)].sort().map(day => [appspaceId, day]);
  const mark = multiRowInsert("rollup_dirty", ["appspace_id", "day"], rows);
  if (writes) writes.add(mark);
  else await em.query(...mark);
}

/**
 * Marks stale, in the caller's transaction, the days of the events of these identifiers (an event's is its userId, or
 * its anonymousId when it has none; for events with a channel, the next day too), and of the refunds and cancels of
 * their orders: identity links that give them another person change who those events count for. With `writes`, the
 * marks go with them (sent by the caller).
 */
export async function markPeopleDays(
  em: Db | EntityManager,
  appspaceId: number,
  identifiers: readonly string[],
  writes?: Writes,
): Promise<void> {
  const unique = [...new Set(identifiers)];
  // Each id is bound four times: 2,000 at a time stays within SQLite's bound values.
  for (let i = 0; i < unique.length; i += 2000) {
    const ids = inList(unique.slice(i, i + 2000));
    // An OR of the two would read the appspace's events: each id column through its own index.
    const ownedBy = (alias: string) => [
      sql`${raw(alias)}.user_id IN (${ids})`,
      sql`${raw(alias)}.anonymous_id IN (${ids}) AND ${raw(alias)}.user_id IS NULL`,
    ];
    const ownEvents = ownedBy("e").map(
      own => sql`SELECT ${dayOf(em, "e.occurred_at")} AS day, ${taggedFlag("e")} AS tagged
        FROM events e WHERE e.appspace_id = ${appspaceId} AND ${own}`,
    );
    const refundsOfTheirOrders = ownedBy("p").map(
      own => sql`SELECT ${dayOf(em, "c.occurred_at")} AS day, 0 AS tagged
        FROM events p JOIN ${orderEvents(em, "c")} ON c.appspace_id = p.appspace_id AND c.transaction_id =
        p.transaction_id
          AND c.event_type IN ('REFUND', 'CANCEL')
        WHERE p.appspace_id = ${appspaceId} AND p.event_type = 'PURCHASE' AND ${own}`,
    );
    const query = joinSql([...ownEvents, ...refundsOfTheirOrders].map(lockingRead(em)), " UNION ");
    const rows = await queryRows<{ day: string; tagged: unknown }>(em, query);
    await markDays(
      em,
      appspaceId,
      rows.flatMap(r => daysOfEvent(r.day, toNumber(r.tagged) === 1)),
      writes,
    );
  }
}

/**
 * On MySQL, a locking read: it sees what committed after the transaction's snapshot (an event the refresher may
 * already have rolled up for its old person) and waits for what is being written. SQLite writes one at a time.
 */
const lockingRead =
  (em: Db | EntityManager) =>
  (query: Sql): Sql =>
    dialectOf(em).mysql ? sql`(${query}${raw(dialectOf(em).shareLock)})` : query;

/** The days of the refunds and cancels of these orders. */
async function refundDaysOf(
  em: Db | EntityManager,
  appspaceId: number,
  transactionIds: readonly string[],
): Promise<string[]> {
  const ids = [...new Set(transactionIds)];
  if (ids.length === 0) return [];
  // A locking read on MySQL: a writer of the same order in flight is waited for (and sees this one's
  // rows once it commits), so two transactions cannot each miss the other's refunds. SQLite writes one at a time.
  // Through the order index, so that it locks only these orders' entries: through the type index it would
  // lock every refund's, and every concurrent insert of a refund would wait.
  const rows = await queryRows<{ day: string }>(
    em,
    sql`
    SELECT DISTINCT ${dayOf(em, "e.occurred_at")} AS day FROM ${orderEvents(em, "e")}
    WHERE e.appspace_id = ${appspaceId} AND e.transaction_id IN (${inList(ids)}) AND e.event_type IN ('REFUND',
    'CANCEL')${raw(dialectOf(em).shareLock)}`,
  );
  return rows.map(r => r.day);
}

/** The days marked stale, among `start`..`end` (inclusive) if given. */
export async function staleDays(
  db: Db,
  appspaceId: number,
  range?: { start: string; end: string },
): Promise<Set<string>> {
  const within = range ? sql` AND day >= ${range.start} AND day <= ${range.end}` : raw("");
  const rows = await queryRows<{ day: string }>(
    db,
    sql`SELECT DISTINCT day FROM rollup_dirty WHERE appspace_id = ${appspaceId}${within}`,
  );
  return new Set(rows.map(r => r.day));
}

/** Whether a day of `first`..`last` is marked stale (`last` omitted: whether `first` is, e.g. marked again). */
export async function isMarked(db: Db, appspaceId: number, first: string, last = first): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`SELECT 1 AS marked FROM rollup_dirty
    WHERE appspace_id = ${appspaceId} AND day >= ${first} AND day <= ${last} LIMIT 1`,
  );
  return rows.length > 0;
}

/**
 * Deletes events with their details, in the caller's transaction, marking stale the days they change: the orders'
 * rows are locked first, as ingest locks them, so a deletion and a write of the same orders wait for each other.
 */
export async function deleteAndMark(
  em: EntityManager,
  appspaceId: number,
  events: readonly StoredEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await lockOrdersOf(em, appspaceId, events);
  await markChangedDays(em, appspaceId, events);
  await deleteEventRows(em, appspaceId, events);
}
