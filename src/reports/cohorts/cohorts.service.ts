import { DataSource } from "typeorm";
import { Appspace } from "../../appspaces/appspace.entity";
import { inList, queryRows, raw, sql, Sql } from "../../db/query";
import { Db, toNumber, withTransaction } from "../../db/sql";
import { BadUserInputError } from "../../errors";
import { notFlagged, personOf } from "../../events/event-sql";
import { fromMinor } from "../../money";
import { Cohorts } from "../report.types";
import { refundAmounts } from "../sales/sources";
import { buyerRows } from "./cohorts.rollup";
import { dialectOf } from "../../db/dialect";
import { staleDays } from "../../rollups/marks";

export const MAX_COHORT_MONTHS = 24;

/** YYYY-MM of a DATETIME column. */
const monthOf = (db: Db, column: string) => dialectOf(db).month(column);

const monthIndex = (yyyyMm: string) => Number(yyyyMm.slice(0, 4)) * 12 + Number(yyyyMm.slice(5, 7)) - 1;
const monthAt = (index: number) => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;

/**
 * Monthly cohorts: a person's cohort is the month of their first purchase ever;
 * each cohort's revenue (purchases minus what refunds and cancels took back, a
 * refund counting for the person who placed its order) by months since. The last
 * `months` cohorts up to this month, newest first; avgLtv and totalPurchasingUsers
 * cover every purchasing person. From rollups, see cellsFromRollups.
 */
export async function cohorts(
  db: DataSource,
  appspace: Appspace,
  months: number,
  now: Date,
  includeFlagged = false,
  rollups = true,
): Promise<Cohorts> {
  if (!Number.isInteger(months) || months < 1 || months > MAX_COHORT_MONTHS) {
    throw new BadUserInputError(`months must be between 1 and ${MAX_COHORT_MONTHS}; got ${months}`, {
      field: "months",
    });
  }
  // From rollups in one transaction: its statements add and take away what one snapshot holds.
  const rows = rollups
    ? await withTransaction(db, em => cellsFromRollups(em, appspace.id, includeFlagged))
    : await cohortsFromEvents(db, appspace, includeFlagged);

  const current = monthIndex(now.toISOString().slice(0, 7));
  const cells = new Map<string, number>();
  const users = new Map<string, number>();
  let total = 0;
  for (const r of rows) {
    const [cohort, at, amount] = [r.cohort as string, r.month as string, toNumber(r.amount)];
    total += amount;
    if (cohort === at) users.set(cohort, toNumber(r.people));
    cells.set(`${cohort}|${at}`, amount);
  }
  const totalPurchasingUsers = [...users.values()].reduce((a, b) => a + b, 0);
  const money = (minor: number) => fromMinor(Math.round(minor), appspace.baseCurrency);
  return {
    cohorts: Array.from({ length: months }, (_, n) => {
      const start = current - n;
      const cohort = monthAt(start);
      return {
        month: cohort,
        users: users.get(cohort) ?? 0,
        revenueByMonth: Array.from({ length: n + 1 }, (_, offset) => ({
          monthOffset: offset,
          revenue: money(cells.get(`${cohort}|${monthAt(start + offset)}`) ?? 0),
        })),
      };
    }),
    avgLtv: totalPurchasingUsers === 0 ? 0 : money(total / totalPurchasingUsers),
    totalPurchasingUsers,
  };
}

interface Cell {
  cohort: string;
  month: string;
  /** Distinct people (read where cohort = month: the cohort's size). */
  people: number;
  amount: number;
}

/**
 * The cells from rollup_cohort_days, rollup_buyers summed per day and cohort (its rows carry their person's cohort
 * and first purchase, is_first). The people with rows on stale days (before or after their refresh) are taken out
 * of that sum and recomputed from their clean days' rows and the stale days' raw events. Its statements must read
 * one snapshot (a transaction).
 */
async function cellsFromRollups(db: Db, appspaceId: number, withFlagged: boolean): Promise<Cell[]> {
  const stale = [...(await staleDays(db, appspaceId))].sort();
  const variant = sql`appspace_id = ${appspaceId} AND with_flagged = ${withFlagged ? 1 : 0}`;
  const rows = sql`FROM rollup_buyers WHERE ${variant}`;
  // Buyer rows count their person where they hold the first purchase; a cohort day counts its people.
  const [buyerDays, cohortDays] = [
    { table: raw("rollup_buyers"), people: raw("is_first") },
    { table: raw("rollup_cohort_days"), people: raw("people") },
  ];
  const sum = (from: { table: Sql; people: Sql }, where: Sql) =>
    queryRows<Cell>(
      db,
      sql`SELECT cohort, substr(day, 1, 7) AS month, SUM(${from.people}) AS people,
    SUM(amount) AS amount FROM ${from.table} WHERE ${variant}${where} AND cohort IS NOT NULL GROUP BY cohort,
      substr(day, 1, 7)`,
    );
  if (stale.length === 0) return sum(cohortDays, raw(""));
  const staleList = inList(stale);
  const fresh = buyerRows(db, appspaceId, stale, withFlagged);
  const touched = sql`SELECT person ${rows} AND day IN (${staleList}) UNION SELECT person FROM (${fresh}) f`;
  const clean = sql` AND day NOT IN (${staleList})`;
  const month = (column: string) => monthOf(db, column);
  const [all, theirs, recomputed] = [
    await sum(cohortDays, clean),
    await sum(buyerDays, sql`${clean} AND person IN (${touched})`),
    await queryRows<Cell>(
      db,
      sql`
    WITH buyers AS (SELECT day, person, first_at, amount ${rows}${clean} AND person IN (${touched}) UNION ALL ${fresh}),
    firsts AS (SELECT person, MIN(first_at) AS first_at FROM buyers WHERE first_at IS NOT NULL GROUP BY person)
    SELECT ${month("f.first_at")} AS cohort, substr(b.day, 1, 7) AS month, COUNT(DISTINCT f.person) AS people,
    SUM(b.amount) AS amount
    FROM firsts f JOIN buyers b ON b.person = f.person GROUP BY ${month("f.first_at")}, substr(b.day, 1, 7)`,
    ),
  ];
  const cells = new Map<string, Cell>();
  for (const [list, sign] of [
    [all, 1],
    [theirs, -1],
    [recomputed, 1],
  ] as const) {
    for (const c of list) {
      const key = `${c.cohort}|${c.month}`;
      const cell = cells.get(key) ?? { cohort: c.cohort, month: c.month, people: 0, amount: 0 };
      cell.people += sign * toNumber(c.people);
      cell.amount += sign * toNumber(c.amount);
      cells.set(key, cell);
    }
  }
  return [...cells.values()];
}

/** The cohort cells (cohort, month, people, amount) from raw events in one statement. */
async function cohortsFromEvents(db: Db, appspace: Appspace, includeFlagged: boolean): Promise<Cell[]> {
  const { join, person } = personOf();
  const month = (column: string) => monthOf(db, column);
  return queryRows<Cell>(
    db,
    sql`
    WITH purchases AS (
      SELECT e.occurred_at, e.revenue, e.transaction_id, ${person} AS person FROM events e ${join}
      WHERE e.appspace_id = ${appspace.id} AND e.event_type = 'PURCHASE' AND (e.user_id IS NOT NULL OR e.anonymous_id
      IS NOT NULL)${notFlagged(includeFlagged)}
    ),
    firsts AS (SELECT person, MIN(occurred_at) AS first_at FROM purchases GROUP BY person),
    orders AS (SELECT transaction_id, MIN(person) AS person FROM purchases GROUP BY transaction_id),
    flows AS (
      SELECT person, occurred_at, revenue AS amount FROM purchases
      UNION ALL
      SELECT o.person, r.occurred_at, -r.amount FROM
      (${refundAmounts(db, {
        from: raw("events c"),
        where: sql`c.appspace_id = ${appspace.id} AND c.event_type IN
        ('REFUND', 'CANCEL')${notFlagged(includeFlagged, "c")}`,
      })}) r
      JOIN orders o ON o.transaction_id = r.transaction_id
    )
    SELECT ${month("f.first_at")} AS cohort, ${month("x.occurred_at")} AS month, COUNT(DISTINCT f.person) AS people,
    SUM(x.amount) AS amount
    FROM firsts f JOIN flows x ON x.person = f.person
    GROUP BY ${month("f.first_at")}, ${month("x.occurred_at")}`,
  );
}
