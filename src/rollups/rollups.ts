import { DataSource, EntityManager, QueryRunner } from "typeorm";
import { dayOf, joinSql, queryRows, raw, sql, Sql } from "../db/query";
import { Db, insertChunked, isMysql, multiRowInsert, Row, toNumber, withTransaction, Writes } from "../db/sql";
import { PeriodicTask } from "../periodic-task";
import { reportFailure } from "../db/health";
import { addDays, periodOf } from "../reports/range";
import { attributionDayRows, WINDOWS } from "../attribution/attribution.service";
import { DayTouches } from "../attribution/touches";
import { CART_ROW_COLUMNS, CartDayTotals, CartDays, cartDayRows } from "../reports/cart-days";
import { FunnelDays, FunnelSets } from "../reports/funnel.service";
import { forgetPeople, numberPeople, samePerson, storedSet } from "./people-sets";
import { eachDayEvents } from "./day-events";
import { dayCartRows, updateCartPairs } from "./cart-pairs";
import { dayFunnelRows, updateFunnelPairs } from "./funnel-pairs";
import { buyerRows, ORDER_DIMENSIONS, orderEvents, productRows, purchaseRows, RawSelection, ReachRow, reachRows, reachSets, refundRows, ROLLUP_GRAINS, taggedFlag, WEEK } from "../reports/sources";

/** The event types of orders, which the sales rollups sum. */
const ORDER_TYPES: ReadonlySet<string> = new Set(["PURCHASE", "REFUND", "CANCEL"]);

/** The daily rollup tables: a day's rows in each are recomputed together (seven-day ones follow from them). */
export const DAY_TABLES = ["rollup_sales", "rollup_products", "rollup_refunds", "rollup_funnel_sets", "rollup_funnel_people", "rollup_reach_sets", "rollup_buyers", "rollup_carts", "rollup_cart_totals", "rollup_touches"] as const;

/** An event written or about to be deleted: its type, UTC day (YYYY-MM-DD), order, and whether it carries a channel. */
export interface ChangedEvent {
  type: string;
  day: string;
  transactionId: string | null;
  /** It carries a campaign, source or medium: purchases of the next 24 hours may be credited to it (creditedPurchases). */
  tagged: boolean;
}

/** The days whose rollups an event of `day` changes: its own, and the next when it carries a channel (purchases of the next 24 hours may be credited to it). */
const daysOfEvent = (day: string, tagged: boolean) => (tagged ? [day, addDays(day, 1)] : [day]);

/**
 * Marks stale, in the caller's transaction (so the mark commits or rolls back
 * with the change), the days whose rollups these events change: their own day
 * (every event counts in the reach of its channel), and for purchases, refunds and
 * cancels the days of their orders' refunds, since what a refund takes back
 * depends on its order's purchase and the refunds before it; for events with a channel, the next day (daysOfEvent). The marks are appended to a log instead of updating a row per day,
 * so concurrent writers never wait on each other. With `writes`, the marks go with them (sent by the caller).
 */
export async function markChangedDays(em: Db | EntityManager, appspaceId: number, events: readonly ChangedEvent[], writes?: Writes): Promise<void> {
  if (events.length === 0) return;
  const refundDays = await refundDaysOf(em, appspaceId, events.flatMap(e => (e.transactionId === null || !ORDER_TYPES.has(e.type) ? [] : [e.transactionId])));
  await markDays(em, appspaceId, [...events.flatMap(e => daysOfEvent(e.day, e.tagged)), ...refundDays], writes);
}

async function markDays(em: Db | EntityManager, appspaceId: number, days: readonly string[], writes?: Writes): Promise<void> {
  if (days.length === 0) return;
  const rows = [...new Set(days)].sort().map(day => [appspaceId, day]);
  const mark = multiRowInsert("rollup_dirty", ["appspace_id", "day"], rows);
  if (writes) writes.add(mark);
  else await em.query(...mark);
}

/**
 * Marks stale, in the caller's transaction, the days of the events of these identifiers (an event's is its userId,
 * or its anonymousId when it has none; for events with a channel, the next day too), and of the refunds and cancels
 * of their orders: identity links that give them another person change who those events count for. With `writes`, the marks go with them (sent by the caller).
 */
export async function markPeopleDays(em: Db | EntityManager, appspaceId: number, identifiers: readonly string[], writes?: Writes): Promise<void> {
  const unique = [...new Set(identifiers)];
  // Each id is bound four times: 2,000 at a time stays within SQLite's bound values.
  for (let i = 0; i < unique.length; i += 2000) {
    const ids = joinSql(unique.slice(i, i + 2000).map(id => sql`${id}`));
    // An OR of the two would read the appspace's events: each id column through its own index.
    const of = (alias: string) => [sql`${raw(alias)}.user_id IN (${ids})`, sql`${raw(alias)}.anonymous_id IN (${ids}) AND ${raw(alias)}.user_id IS NULL`];
    const rows = await queryRows<{ day: string; tagged: unknown }>(em, joinSql([
      ...of("e").map(own => sql`SELECT ${dayOf(em, "e.occurred_at")} AS day, ${taggedFlag("e")} AS tagged FROM events e WHERE e.appspace_id = ${appspaceId} AND ${own}`),
      ...of("p").map(own => sql`SELECT ${dayOf(em, "c.occurred_at")} AS day, 0 AS tagged FROM events p JOIN ${orderEvents(em, "c")}
        ON c.appspace_id = p.appspace_id AND c.transaction_id = p.transaction_id AND c.event_type IN ('REFUND', 'CANCEL')
        WHERE p.appspace_id = ${appspaceId} AND p.event_type = 'PURCHASE' AND ${own}`),
    ].map(lockingRead(em)), " UNION "));
    await markDays(em, appspaceId, rows.flatMap(r => daysOfEvent(r.day, toNumber(r.tagged) === 1)), writes);
  }
}

/**
 * On MySQL, a locking read: it sees what committed after the transaction's snapshot (an event the refresher may
 * already have rolled up for its old person) and waits for what is being written. SQLite writes one at a time.
 */
const lockingRead = (em: Db | EntityManager) => (query: Sql): Sql => (isMysql(em) ? sql`(${query} LOCK IN SHARE MODE)` : query);

/** The days of the refunds and cancels of these orders. */
async function refundDaysOf(em: Db | EntityManager, appspaceId: number, transactionIds: readonly string[]): Promise<string[]> {
  const ids = [...new Set(transactionIds)];
  if (ids.length === 0) return [];
  // A locking read on MySQL: a writer of the same order in flight is waited for (and sees this one's
  // rows once it commits), so two transactions cannot each miss the other's refunds. SQLite writes one at a time.
  // Through the order index, so that it locks only these orders' entries: through the type index it would
  // lock every refund's, and every concurrent insert of a refund would wait.
  const rows = await queryRows<{ day: string }>(em, sql`
    SELECT DISTINCT ${dayOf(em, "e.occurred_at")} AS day FROM ${orderEvents(em, "e")}
    WHERE e.appspace_id = ${appspaceId} AND e.transaction_id IN (${joinSql(ids.map(id => sql`${id}`))}) AND e.event_type IN ('REFUND', 'CANCEL')${raw(isMysql(em) ? " LOCK IN SHARE MODE" : "")}`);
  return rows.map(r => r.day);
}

/**
 * Removes, in the caller's transaction, what the rollups hold of these identifiers as people (a deletion) on the days of
 * the events it deletes: their rows of rollup_buyers and rollup_touches, and every cart of those days (a cart's summary
 * names its person) with what they add to rollup_cart_pairs; the deletion marks those days stale, so reports read them
 * raw and the refresher recomputes them without them. `days` null: every day, and their numbers (which the sets of people
 * and rollup_funnel_people hold) as the last step, once every day that holds those numbers is marked. Call
 * lockPeopleRollups first in the transaction.
 */
export async function forgetInRollups(em: Db, appspaceId: number, identifiers: readonly string[], days: readonly string[] | null): Promise<void> {
  const ids = joinSql(identifiers.map(id => sql`${id}`));
  const unique = [...new Set(days ?? [])];
  if (days !== null && unique.length === 0) return;
  const onDays = days === null ? raw("") : sql` AND day IN (${joinSql(unique.map(d => sql`${d}`))})`;
  await queryRows(em, sql`DELETE FROM rollup_buyers WHERE appspace_id = ${appspaceId} AND with_flagged IN (0, 1) AND person IN (${ids})${onDays}`);
  await queryRows(em, sql`DELETE FROM rollup_touches WHERE appspace_id = ${appspaceId} AND person IN (${ids})${onDays}`);
  if (days === null) await forgetPeople(em, appspaceId, identifiers);
  else {
    for (const day of unique) {
      const carts = await dayCartRows(em, appspaceId, day);
      await queryRows(em, sql`DELETE FROM rollup_carts WHERE appspace_id = ${appspaceId} AND day = ${day}`);
      await updateCartPairs(em, appspaceId, day, carts);
    }
    await queryRows(em, sql`DELETE FROM rollup_cart_totals WHERE appspace_id = ${appspaceId}${onDays}`);
  }
}

/**
 * On MySQL, orders what the refresher computes of an appspace's people and what a deletion removes of them: the refresher
 * takes the appspace's row in share mode for each day it recomputes (other refreshes and ingest go on), a deletion takes
 * it for update first in each of its transactions. Otherwise a day recomputed from events read just before a deletion
 * commits could write the person's rows and number back after the deletion removed them. Nothing else locks that row but
 * changes of the appspace's settings. SQLite runs one transaction at a time.
 */
export async function lockPeopleRollups(em: Db, appspaceId: number, forUpdate: boolean): Promise<void> {
  if (isMysql(em)) await em.query(`SELECT id FROM appspaces WHERE id = ? ${forUpdate ? "FOR UPDATE" : "LOCK IN SHARE MODE"}`, [appspaceId]);
}

export interface RefreshOptions {
  /** Marks read at a time; each pass refreshes the days they name. */
  batch?: number;
  /** Stop after this many reads (default: until every mark of the log as it was at the start is dealt with). */
  passes?: number;
  /** How long to wait for a refresher running elsewhere to finish (MySQL); by default none: leave the work to it. */
  waitSeconds?: number;
  /** Checked between days: true stops the refresh there. */
  stopping?: () => boolean;
  /** Days it returns true for (given the id of the day's newest mark read) stay stale: their newest mark is left for a later call. */
  skip?: (appspaceId: number, day: string, newestMark: number) => boolean;
  /** Told of each day refreshed. */
  refreshed?: (appspaceId: number, day: string) => void;
  /** Told of each day whose refresh failed (it stays stale; the error is logged). */
  failed?: (appspaceId: number, day: string) => void;
  /** Events of a day collected at once for the rollups of what people did; a busier day is collected in parts. */
  partEvents?: number;
}

/**
 * Recomputes the rollups of the days named in rollup_dirty from raw events, one
 * day per transaction, until every day marked before the call (and not left by `skip`) has been
 * refreshed; a mark that commits meanwhile with a lower id than those read is left for the next call. On MySQL one refresher runs at a
 * time per database, across servers (a named lock), and each day is recomputed
 * at READ COMMITTED, so it never locks the events ingest is writing. Returns the
 * number of days refreshed.
 */
export async function refreshRollups(db: DataSource, opts: RefreshOptions = {}): Promise<number> {
  const runner = db.createQueryRunner();
  const mysql = isMysql(db);
  try {
    if (mysql) {
      // Named locks are server-wide: the name carries the database's.
      const [got] = await runner.query("SELECT GET_LOCK(CONCAT(DATABASE(), '.rollups'), ?) AS ok", [opts.waitSeconds ?? 0]);
      if (toNumber(got.ok) !== 1) return 0;
    }
    let refreshed = 0;
    try {
      // The marks there are now: days that writers keep marking meanwhile wait for the next call.
      const [last] = await runner.query("SELECT COALESCE(MAX(id), 0) AS id FROM rollup_dirty");
      // Marks up to `after` have been dealt with: deleted with their day, or left by `skip`.
      let after = 0;
      for (let pass = 0; pass < (opts.passes ?? Infinity) && !opts.stopping?.(); pass++) {
        const read = await readMarks(db, runner, "rollup_dirty", after, toNumber(last.id), opts.batch);
        if (!read) break;
        after = read.after;
        for (const { appspaceId, day, newest } of read.days) {
          if (opts.stopping?.()) return refreshed;
          if (opts.skip?.(appspaceId, day, newest)) {
            // One mark keeps a day stale: the marks of a day written without pause do not pile up while it waits.
            const compact = (q: Db | EntityManager | QueryRunner) => q.query("DELETE FROM rollup_dirty WHERE appspace_id = ? AND day = ? AND id < ?", [appspaceId, day, newest]);
            if (mysql) await compact(runner);
            else await withTransaction(db, compact);
            continue;
          }
          const partEvents = opts.partEvents ?? PART_EVENTS;
          try {
            await inTransaction(db, runner, em => refreshDay(em, appspaceId, day, partEvents, checkpoint(opts.stopping)));
          } catch (err) {
            // Told to stop mid-day (a shutdown): rolled back, the day stays stale for the next refresher.
            if (err instanceof RefreshStopped) return refreshed;
            // A day that cannot be recomputed stays stale (reports read it raw) without holding up the others.
            reportFailure(db, "rollups", "day not refreshed", err, { appspace: appspaceId, day });
            opts.failed?.(appspaceId, day);
            continue;
          }
          opts.refreshed?.(appspaceId, day);
          refreshed++;
        }
      }
      if (!opts.stopping?.()) await refreshAttribution(db, runner, opts);
      return refreshed;
    } finally {
      if (mysql) await runner.query("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.rollups'))");
    }
  } finally {
    await runner.release();
  }
}

/**
 * Computes the attribution credits of the days named in rollup_attribution_dirty (as it is now, with the marks of the
 * days just refreshed), a day per transaction, as refreshRollups recomputes the stale ones.
 */
async function refreshAttribution(db: DataSource, runner: QueryRunner, opts: RefreshOptions): Promise<void> {
  const [last] = await runner.query("SELECT COALESCE(MAX(id), 0) AS id FROM rollup_attribution_dirty");
  for (let after = 0; ;) {
    const read = await readMarks(db, runner, "rollup_attribution_dirty", after, toNumber(last.id), opts.batch);
    if (!read) return;
    after = read.after;
    for (const { appspaceId, day } of read.days) {
      if (opts.stopping?.()) return;
      try {
        await inTransaction(db, runner, em => refreshAttributionDay(em, appspaceId, day));
      } catch (err) {
        // Its mark stays: reports compute the day from its purchases until a later pass computes it.
        reportFailure(db, "rollups", "attribution not computed", err, { appspace: appspaceId, day });
      }
    }
  }
}

/**
 * Takes the marks of the day, then computes its credits from its purchases and their people's touches in rollup_touches.
 * While a day whose touches they read is stale, reports do not read them, and that day's refresh marks this one again:
 * they are left out until then.
 */
async function refreshAttributionDay(db: EntityManager, appspaceId: number, day: string): Promise<void> {
  await db.query("DELETE FROM rollup_attribution_dirty WHERE appspace_id = ? AND day = ?", [appspaceId, day]);
  // Both variants named: the key is (appspace_id, with_flagged, day, seq).
  await db.query("DELETE FROM rollup_attribution WHERE appspace_id = ? AND with_flagged IN (0, 1) AND day = ?", [appspaceId, day]);
  const stale = await db.query("SELECT 1 AS stale FROM rollup_dirty WHERE appspace_id = ? AND day >= ? AND day <= ? LIMIT 1", [appspaceId, addDays(day, -ATTRIBUTION_DAYS), day]);
  if (stale.length > 0) return;
  const columns = ["appspace_id", "day", "with_flagged", "seq", "model", "window_days", "campaign", "source", "medium", "revenue", "orders"];
  const rows = (await attributionDayRows(db, appspaceId, day)).map(r => [appspaceId, day, ...r]);
  await insertChunked(db, r => multiRowInsert("rollup_attribution", columns, r), columns.length, rows);
}

/**
 * Up to `batch` marks of a log of days (rollup_dirty, rollup_attribution_dirty) with ids in (after, last], as the days
 * they name (with the id of each day's newest mark) and the last id read; null when none is left.
 */
async function readMarks(db: DataSource, runner: QueryRunner, log: string, after: number, last: number, batch = 1000) {
  const read = (q: Db | QueryRunner) => q.query(`SELECT id, appspace_id, day FROM ${log} WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`, [after, last, batch]);
  // On SQLite's shared connection, a read outside the queue could see another request's uncommitted marks.
  const entries: { id: unknown; appspace_id: unknown; day: string }[] = isMysql(db) ? await read(runner) : await withTransaction(db, read);
  if (entries.length === 0) return null;
  const days = new Map<string, { appspaceId: number; day: string; newest: number }>();
  for (const e of entries) days.set(`${e.appspace_id}|${e.day}`, { appspaceId: toNumber(e.appspace_id), day: e.day, newest: toNumber(e.id) });
  return { after: toNumber(entries.at(-1)!.id), days: [...days.values()] };
}

/** fn in a transaction of its own: on MySQL the refresher's connection at READ COMMITTED; SQLite's transactions queue in withTransaction. */
async function inTransaction(db: DataSource, runner: QueryRunner, fn: (em: EntityManager) => Promise<void>): Promise<void> {
  if (!isMysql(db)) return withTransaction(db, fn);
  await runner.startTransaction("READ COMMITTED");
  try {
    await fn(runner.manager);
    await runner.commitTransaction();
  } catch (err) {
    await runner.rollbackTransaction();
    throw err;
  }
}

/** Thrown inside a day's refresh when the refresher is told to stop: the transaction rolls back, the day stays stale. */
class RefreshStopped extends Error {}

/**
 * Points between the steps of a day's refresh where it may give up (a busy day's refresh takes seconds at 10M events,
 * and a shutdown should not wait for it): throws RefreshStopped once `stopping` says so.
 */
function checkpoint(stopping: (() => boolean) | undefined): () => void {
  return () => {
    if (stopping?.()) throw new RefreshStopped("the refresher was told to stop");
  };
}

/**
 * Takes every mark of the day first, then recomputes it. Each statement of a
 * READ COMMITTED transaction reads what was committed when it starts, so the
 * recomputation sees the events of every mark it took (a mark commits with its
 * events); a writer committing after the delete leaves its mark for the next pass.
 */
async function refreshDay(db: EntityManager, appspaceId: number, day: string, partEvents: number, check: () => void = () => undefined): Promise<void> {
  await lockPeopleRollups(db, appspaceId, false);
  await db.query("DELETE FROM rollup_dirty WHERE appspace_id = ? AND day = ?", [appspaceId, day]);
  const { from, to } = periodOf(day, day);
  const selection = (alias: string, types: string): RawSelection => ({
    from: raw(`events ${alias}`),
    where: sql`${raw(alias)}.appspace_id = ${appspaceId} AND ${raw(alias)}.event_type IN (${raw(types)}) AND ${raw(alias)}.occurred_at >= ${from} AND ${raw(alias)}.occurred_at < ${to}`,
  });
  const dims = ORDER_DIMENSIONS.join(", ");
  const statements: Sql[] = [
    // seq numbers a day's rows of a grain (part of the key the rows are stored in).
    sql`INSERT INTO rollup_sales (appspace_id, day, grain, flagged, seq, ${raw(dims)}, orders, revenue, discount, items)
      SELECT ${appspaceId}, day, 'all', flagged, ROW_NUMBER() OVER (), ${raw(dims)}, SUM(orders), COALESCE(SUM(revenue), 0), COALESCE(SUM(discount), 0), COALESCE(SUM(items), 0)
      FROM (${purchaseRows(db, selection("e", "'PURCHASE'"))}) s GROUP BY day, flagged, ${raw(dims)}`,
    // The coarser grains, from the day's rows of every dimension.
    ...Object.entries(ROLLUP_GRAINS).filter(([grain]) => grain !== "all").map(([grain, columns]) => {
      const list = raw(columns.map(c => `, ${c}`).join(""));
      return sql`INSERT INTO rollup_sales (appspace_id, day, grain, flagged, seq${list}, orders, revenue, discount, items)
        SELECT appspace_id, day, ${grain}, flagged, ROW_NUMBER() OVER ()${list}, SUM(orders), SUM(revenue), SUM(discount), SUM(items)
        FROM rollup_sales WHERE appspace_id = ${appspaceId} AND day = ${day} AND grain = 'all' GROUP BY appspace_id, day, flagged${list}`;
    }),
    sql`INSERT INTO rollup_products (appspace_id, day, flagged, item_id, revenue, quantity, orders)
      SELECT ${appspaceId}, day, flagged, item_id, revenue, quantity, orders FROM (${productRows(db, selection("e", "'PURCHASE'"))}) s`,
    sql`INSERT INTO rollup_refunds (appspace_id, day, flagged, refunds, amount)
      SELECT ${appspaceId}, day, flagged, refunds, amount FROM (${refundRows(db, selection("c", "'REFUND', 'CANCEL'"))}) s`,
    ...[false, true].map(withFlagged => sql`INSERT INTO rollup_buyers (appspace_id, with_flagged, day, person, first_at, amount)
      SELECT ${appspaceId}, ${withFlagged ? 1 : 0}, day, person, first_at, amount FROM (${buyerRows(db, appspaceId, [day], withFlagged)}) s`),
  ];
  const buyers = () => queryRows<{ person: string }>(db, sql`SELECT DISTINCT person FROM rollup_buyers WHERE appspace_id = ${appspaceId} AND day = ${day}`);
  const before = await buyers();
  const [carts, funnel] = [await dayCartRows(db, appspaceId, day), await dayFunnelRows(db, appspaceId, day)];
  for (const table of DAY_TABLES) {
    await db.query(`DELETE FROM ${table} WHERE appspace_id = ? AND day = ?`, [appspaceId, day]);
  }
  for (const s of statements) {
    check();
    await db.query(s.text, [...s.params]);
  }
  check();
  await refreshCohorts(db, appspaceId, day, [...new Set([...before, ...(await buyers())].map(b => b.person))]);
  await refreshPeople(db, appspaceId, day, partEvents, check);
  check();
  await updateCartPairs(db, appspaceId, day, carts);
  await updateFunnelPairs(db, appspaceId, day, funnel);
  // Marked again meanwhile (today under steady ingest is, within milliseconds), the day keeps its spans from being
  // read until its next refresh, which computes them: computing them now would be wasted.
  const again = await db.query("SELECT 1 AS marked FROM rollup_dirty WHERE appspace_id = ? AND day = ? LIMIT 1", [appspaceId, day]);
  if (again.length === 0) await refreshWeeks(db, appspaceId, day);
  // The attribution credits of the days whose purchases may read the day's touches: computed again after it. Of the
  // days after it, those with purchases rolled up (today's refresh would otherwise mark 90 days to come): a day whose
  // purchases are not, or no longer, is stale, and its own refresh marks it.
  const later = await queryRows<{ day: string }>(db, sql`SELECT DISTINCT day FROM rollup_sales
    WHERE appspace_id = ${appspaceId} AND day > ${day} AND day <= ${addDays(day, ATTRIBUTION_DAYS)} AND grain = 'total'`);
  const credited = [day, ...later.map(l => l.day)].map(d => [appspaceId, d]);
  await db.query(...multiRowInsert("rollup_attribution_dirty", ["appspace_id", "day"], credited));
}

/** Days before a purchase its credits read touches of: the longest attribution window. */
const ATTRIBUTION_DAYS = Math.max(...WINDOWS);

/** Events of a day collected at once by default: a busier day is collected in parts, so that what is held stays small. */
const PART_EVENTS = 20_000;

/**
 * What people did on the day (src/reports/funnel.service.ts, cart-days.ts, src/attribution/touches.ts), computed here
 * from its events, read once per part of its people and cartIds, a page at a time.
 */
async function refreshPeople(db: EntityManager, appspaceId: number, day: string, partEvents: number, check: () => void): Promise<void> {
  const insertRows = (table: string, columns: readonly string[], rows: Row[]) => insertChunked(db, r => multiRowInsert(table, columns, r), columns.length, rows);
  const { from, to } = periodOf(day, day);
  const reach = await queryRows<ReachRow>(db, sql`SELECT flagged, campaign, source, medium, person, reached, bought
    FROM (${reachRows(db, { from: raw("events e"), where: sql`e.appspace_id = ${appspaceId} AND e.occurred_at >= ${from} AND e.occurred_at < ${to}` })}) s`);
  // Everyone with an event that day, numbered once for the reach and the funnel.
  const numbers = new Map<string, number>();
  await insertRows("rollup_reach_sets", ["appspace_id", "day", "flagged", "seq", "campaign", "source", "medium", "people", "buyers"],
    reachSets(reach, await numberPeople(db, appspaceId, reach.map(r => r.person), numbers))
      .map((r, seq) => [appspaceId, day, r.flagged, seq + 1, r.campaign, r.source, r.medium, storedSet(r.people), storedSet(r.buyers)]));
  const [count] = await queryRows<{ n: unknown }>(db, sql`SELECT COUNT(*) AS n FROM events WHERE appspace_id = ${appspaceId} AND occurred_at >= ${from} AND occurred_at < ${to}`);
  const of = Math.max(1, Math.ceil(toNumber(count.n) / partEvents));
  const moves = new FunnelSets();
  const same = samePerson(db);
  const cartTotals = [new CartDayTotals(), new CartDayTotals()];
  for (let index = 0; index < of; index++) {
    check();
    const [funnel, clean, all, touches] = [new FunnelDays(same), new CartDays(false, same), new CartDays(true, same), new DayTouches()];
    await eachDayEvents(db, appspaceId, [day], null, page => [funnel, clean, all, touches].forEach(c => c.add(page)), { part: { index, of } });
    // Only someone the reach did not name is looked up: an event committed after it was read.
    const people = funnel.rows();
    const numberOf = await numberPeople(db, appspaceId, people.map(p => p.person), numbers);
    moves.add(people, numberOf);
    await insertRows("rollup_funnel_people", ["appspace_id", "person", "day", "moves", "moves_all"], people.map(p => [appspaceId, numberOf(p.person), day, p.moves, p.movesAll]));
    [clean, all].forEach((c, withFlagged) => cartTotals[withFlagged].add(c.days.get(day)));
    await insertRows("rollup_carts", ["appspace_id", "day", ...CART_ROW_COLUMNS], cartDayRows(clean.days.get(day), all.days.get(day)).map(c => [appspaceId, day, ...c]));
    await insertRows("rollup_touches", ["appspace_id", "person", "day", "touches"], touches.rows().map(([person, json]) => [appspaceId, person, day, json]));
  }
  await insertRows("rollup_funnel_sets", ["appspace_id", "day", "with_flagged", "from_step", "to_step", "people"],
    [...moves.sets.values()].map(m => [appspaceId, day, m.withFlagged, m.from, m.to, storedSet(m.people)]));
  await insertRows("rollup_cart_totals", ["appspace_id", "day", "with_flagged", "completed", "abandoned", "abandoned_value", "entities", "dangling", "cart_people", "plain_buyers"],
    cartTotals.flatMap((t, withFlagged) => {
      const columns = t.columns();
      return columns ? [[appspaceId, day, withFlagged, ...columns]] : [];
    }));
}

/**
 * Sets, on every rollup_buyers row of these people, their cohort (the month of their first purchase) and whether it holds
 * that purchase; then recomputes rollup_cohort_days for `day` and the days whose rows this changed.
 */
async function refreshCohorts(db: EntityManager, appspaceId: number, day: string, people: readonly string[]): Promise<void> {
  const mysql = isMysql(db);
  const changed = new Set([day]);
  for (let i = 0; i < people.length; i += 500) {
    const chosen = sql`appspace_id = ${appspaceId} AND with_flagged IN (0, 1) AND person IN (${joinSql(people.slice(i, i + 500).map(p => sql`${p}`))})`;
    const firsts = sql`SELECT with_flagged, person, MIN(first_at) AS first_at FROM rollup_buyers WHERE ${chosen} GROUP BY with_flagged, person`;
    const [cohort, isFirst] = [raw(mysql ? "DATE_FORMAT(f.first_at, '%Y-%m')" : "substr(f.first_at, 1, 7)"), raw("CASE WHEN b.first_at = f.first_at THEN 1 ELSE 0 END")];
    // Named: with hundreds of people MariaDB would rather join through the primary key, reading the appspace's rows per person.
    const joined = sql`rollup_buyers b${raw(mysql ? " FORCE INDEX (ix_rollup_buyers_person)" : "")} JOIN (${firsts}) f
      ON b.appspace_id = ${appspaceId} AND b.with_flagged = f.with_flagged AND b.person = f.person`;
    const days = await queryRows<{ day: string }>(db, sql`SELECT DISTINCT b.day FROM ${joined}
      WHERE ${raw(mysql ? "NOT (b.cohort <=> " : "b.cohort IS NOT (")}${cohort}) OR b.is_first <> ${isFirst}`);
    if (days.length === 0) continue;
    days.forEach(d => changed.add(d.day));
    await queryRows(db, mysql
      ? sql`UPDATE ${joined} SET b.cohort = ${cohort}, b.is_first = ${isFirst}`
      : sql`UPDATE rollup_buyers SET (cohort, is_first) = (SELECT substr(f.first_at, 1, 7), CASE WHEN rollup_buyers.first_at = f.first_at THEN 1 ELSE 0 END
          FROM (${firsts}) f WHERE f.with_flagged = rollup_buyers.with_flagged AND f.person = rollup_buyers.person) WHERE ${chosen}`);
  }
  const days = [...changed];
  for (let i = 0; i < days.length; i += 500) {
    const chosen = sql`appspace_id = ${appspaceId} AND day IN (${joinSql(days.slice(i, i + 500).map(d => sql`${d}`))})`;
    await queryRows(db, sql`DELETE FROM rollup_cohort_days WHERE ${chosen}`);
    await queryRows(db, sql`INSERT INTO rollup_cohort_days (appspace_id, with_flagged, day, cohort, people, amount)
      SELECT appspace_id, with_flagged, day, cohort, SUM(is_first), SUM(amount) FROM rollup_buyers WHERE ${chosen} AND cohort IS NOT NULL
      GROUP BY appspace_id, with_flagged, day, cohort`);
  }
}


/**
 * Recomputes, from the daily rows, the seven-day rows of the seven spans that hold `day`. The other
 * days of a span may be stale meanwhile: reports use a span only while none of its days is, and a
 * stale day's refresh recomputes its spans again.
 */
async function refreshWeeks(db: EntityManager, appspaceId: number, day: string): Promise<void> {
  const spans = Array.from({ length: WEEK }, (_, n) => addDays(day, n - (WEEK - 1)));
  // The spans as a derived table of (first_day, last_day).
  const starts = joinSql(spans.map(start => sql`SELECT ${start} AS first_day, ${addDays(start, WEEK - 1)} AS last_day`), " UNION ALL ");
  const dims = raw(ORDER_DIMENSIONS.map(d => `r.${d}`).join(", "));
  // The daily rows they sum, read as one range (a join on the spans alone would read the appspace's rows once per span).
  const last = addDays(day, WEEK - 1);
  const statements: Sql[] = [
    sql`DELETE FROM rollup_sales_7d WHERE appspace_id = ${appspaceId} AND day >= ${spans[0]} AND day <= ${day}`,
    sql`DELETE FROM rollup_products_7d WHERE appspace_id = ${appspaceId} AND day >= ${spans[0]} AND day <= ${day}`,
    sql`INSERT INTO rollup_sales_7d (appspace_id, day, grain, flagged, seq, ${raw(ORDER_DIMENSIONS.join(", "))}, orders, revenue, discount, items)
      SELECT ${appspaceId}, b.first_day, r.grain, r.flagged, ROW_NUMBER() OVER (), ${dims},
        SUM(r.orders), SUM(r.revenue), SUM(r.discount), SUM(r.items)
      FROM rollup_sales r JOIN (${starts}) b ON r.day >= b.first_day AND r.day <= b.last_day
      WHERE r.appspace_id = ${appspaceId} AND r.day >= ${spans[0]} AND r.day <= ${last}
      GROUP BY b.first_day, r.grain, r.flagged, ${dims}`,
    sql`INSERT INTO rollup_products_7d (appspace_id, day, flagged, item_id, revenue, quantity, orders)
      SELECT ${appspaceId}, b.first_day, r.flagged, r.item_id, SUM(r.revenue), SUM(r.quantity), SUM(r.orders)
      FROM rollup_products r JOIN (${starts}) b ON r.day >= b.first_day AND r.day <= b.last_day
      WHERE r.appspace_id = ${appspaceId} AND r.day >= ${spans[0]} AND r.day <= ${last}
      GROUP BY b.first_day, r.flagged, r.item_id`,
  ];
  for (const s of statements) await db.query(s.text, [...s.params]);
}

/**
 * Keeps rollups current in the background: a pass every `pollMs`, skipped while one runs (here or, on MySQL, in another server).
 * A stale day is recomputed once no mark has come for it for `quietMs`, or once it has waited `maxWaitMs`. Reports read a
 * stale day from raw events whatever its rollups hold, so recomputing a day still being written (today, under steady ingest,
 * is marked again within milliseconds) only takes database time from ingest, and memory: it waits, with one mark.
 */
export class RollupRefresher extends PeriodicTask {
  constructor(db: DataSource, pollMs = 1000, quietMs = 10_000, maxWaitMs = 600_000, clock = () => performance.now()) {
    /** Per stale day seen ("appspace|day"): its newest mark, when that changed, when the day was first seen stale, and last seen. */
    const seen = new Map<string, { newest: number; changedAt: number; since: number; lastSeen: number }>();
    super(db, "rollups", pollMs, stopping => {
      // A day not seen for a while (refreshed by another server) starts over when it is marked again.
      for (const [key, s] of seen) if (clock() - s.lastSeen >= quietMs) seen.delete(key);
      return refreshRollups(db, {
        stopping,
        skip: (appspaceId, day, newest) => {
          const [key, now] = [`${appspaceId}|${day}`, clock()];
          const s = seen.get(key);
          if (!s) seen.set(key, { newest, changedAt: now, since: now, lastSeen: now });
          else Object.assign(s, newest > s.newest ? { newest, changedAt: now, lastSeen: now } : { lastSeen: now });
          const { changedAt, since } = seen.get(key)!;
          return now - changedAt < quietMs && now - since < maxWaitMs;
        },
        refreshed: (appspaceId, day) => seen.delete(`${appspaceId}|${day}`),
        // Tried again once quiet, as if just marked.
        failed: (appspaceId, day) => seen.delete(`${appspaceId}|${day}`),
      });
    });
  }
}
