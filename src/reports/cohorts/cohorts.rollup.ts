import { EntityManager } from "typeorm";
import { inList, queryRows, raw, Sql, sql } from "../../db/query";
import { dayOf, dialectOf } from "../../db/dialect";
import { Db, isMysql } from "../../db/sql";
import { notFlagged, onDays, orderEvents, personOf, someone } from "../../events/event-sql";
import { DayRollup } from "../../rollups/day-rollup";
import { refundAmounts } from "../sales/sources";

/*
 * The cohorts read model: rollup_buyers holds, per day and person, what they bought (purchases minus what refunds
 * took back) and, once their first purchase is known, their cohort (its month) and whether the row holds it;
 * rollup_cohort_days sums those rows per day and cohort. Each in two variants: flagged events left out, or counted.
 */

export const cohortsRollup: DayRollup = {
  name: "cohorts",
  tables: ["rollup_buyers", "rollup_cohort_days"],

  async refreshDay({ db, appspaceId, day, check }) {
    const before = await buyersOn(db, appspaceId, day);
    await queryRows(
      db,
      sql`DELETE FROM rollup_buyers WHERE appspace_id = ${appspaceId} AND with_flagged IN (0, 1) AND day = ${day}`,
    );
    for (const withFlagged of [false, true]) {
      check();
      await queryRows(
        db,
        sql`INSERT INTO rollup_buyers (appspace_id, with_flagged, day, person, first_at, amount)
        SELECT ${appspaceId}, ${withFlagged ? 1 : 0}, day, person, first_at, amount FROM
        (${buyerRows(db, appspaceId, [day], withFlagged)}) s`,
      );
    }
    check();
    await refreshCohorts(db, appspaceId, day, [...new Set([...before, ...(await buyersOn(db, appspaceId, day))])]);
    return {};
  },

  async forget(db, appspaceId, people, days) {
    const chosenDays = days === null ? raw("") : sql` AND day IN (${inList(days)})`;
    await queryRows(
      db,
      sql`DELETE FROM rollup_buyers WHERE appspace_id = ${appspaceId} AND with_flagged IN (0, 1)
      AND person IN (${inList(people)})${chosenDays}`,
    );
  },

  async purgeBefore() {
    // Buyers' rows stay until the refresher recomputes their (marked) days: that also resets the cohort of the
    // people whose rows go, and the days' rollup_cohort_days.
  },
};

/** The people with rows of the day. */
async function buyersOn(db: Db, appspaceId: number, day: string): Promise<string[]> {
  const rows = await queryRows<{ person: string }>(
    db,
    sql`SELECT DISTINCT person FROM rollup_buyers WHERE appspace_id = ${appspaceId} AND day = ${day}`,
  );
  return rows.map(r => r.person);
}

/**
 * What people bought, for cohorts: one row per day and person with purchases, or refunds
 * of orders they placed (the person of an order: the smallest of its purchases' people):
 * first_at, their first purchase of the day (null for none), and amount, purchases minus
 * what refunds and cancels took back. `days` are the days read; `withFlagged` counts
 * events a fraud rule flagged.
 */
export function buyerRows(db: Db, appspaceId: number, days: readonly string[], withFlagged: boolean): Sql {
  const { join, person } = personOf();
  const buyer = personOf("p");
  return sql`SELECT day, person, MIN(first_at) AS first_at, COALESCE(SUM(amount), 0) AS amount FROM (
      SELECT ${dayOf(db, "e.occurred_at")} AS day, ${person} AS person, e.occurred_at AS first_at, e.revenue AS amount
      FROM events e ${join}
      WHERE e.appspace_id = ${appspaceId} AND e.event_type = 'PURCHASE' AND ${someone("e")} AND
      ${onDays("e", days)}${notFlagged(withFlagged)}
      UNION ALL
      SELECT ${dayOf(db, "r.occurred_at")}, r.person, NULL, -r.amount FROM (
        SELECT x.occurred_at, x.amount, (SELECT MIN(${buyer.person}) FROM ${orderEvents(db, "p")} ${buyer.join}
          WHERE p.appspace_id = ${appspaceId} AND p.transaction_id = x.transaction_id AND p.event_type = 'PURCHASE' AND
          ${someone("p")}${notFlagged(withFlagged, "p")}) AS person
        FROM (${refundAmounts(db, {
          from: raw("events c"),
          where: sql`c.appspace_id = ${appspaceId} AND c.event_type IN
        ('REFUND', 'CANCEL') AND ${onDays("c", days)}${notFlagged(withFlagged, "c")}`,
        })}) x
      ) r WHERE r.person IS NOT NULL
    ) b GROUP BY day, person`;
}

/**
 * Sets, on every rollup_buyers row of these people, their cohort (the month of their first purchase) and whether it
 * holds that purchase; then recomputes rollup_cohort_days for `day` and the days whose rows this changed.
 */
async function refreshCohorts(
  db: EntityManager,
  appspaceId: number,
  day: string,
  people: readonly string[],
): Promise<void> {
  const mysql = isMysql(db);
  const changed = new Set([day]);
  for (let i = 0; i < people.length; i += 500) {
    const chosen = sql`appspace_id = ${appspaceId} AND with_flagged IN (0, 1) AND person IN
      (${inList(people.slice(i, i + 500))})`;
    const firsts = sql`SELECT with_flagged, person, MIN(first_at) AS first_at FROM rollup_buyers WHERE ${chosen} GROUP
      BY with_flagged, person`;
    const [cohort, isFirst] = [
      dialectOf(db).month("f.first_at"),
      raw("CASE WHEN b.first_at = f.first_at THEN 1 ELSE 0 END"),
    ];
    // Named: with hundreds of people MariaDB would rather join through the primary key, reading the appspace's rows per
    // person.
    const joined = sql`rollup_buyers b${raw(mysql ? " FORCE INDEX (ix_rollup_buyers_person)" : "")} JOIN (${firsts}) f
      ON b.appspace_id = ${appspaceId} AND b.with_flagged = f.with_flagged AND b.person = f.person`;
    const days = await queryRows<{ day: string }>(
      db,
      sql`SELECT DISTINCT b.day FROM ${joined}
      WHERE NOT (${raw(dialectOf(db).same("b.cohort", cohort.text))}) OR b.is_first <> ${isFirst}`,
    );
    if (days.length === 0) continue;
    days.forEach(d => changed.add(d.day));
    await queryRows(
      db,
      mysql
        ? sql`UPDATE ${joined} SET b.cohort = ${cohort}, b.is_first = ${isFirst}`
        : sql`UPDATE rollup_buyers SET (cohort, is_first) = (SELECT substr(f.first_at, 1, 7), CASE WHEN
          rollup_buyers.first_at = f.first_at THEN 1 ELSE 0 END
          FROM (${firsts}) f WHERE f.with_flagged = rollup_buyers.with_flagged AND f.person = rollup_buyers.person)
          WHERE ${chosen}`,
    );
  }
  const days = [...changed];
  for (let i = 0; i < days.length; i += 500) {
    const chosen = sql`appspace_id = ${appspaceId} AND day IN (${inList(days.slice(i, i + 500))})`;
    await queryRows(db, sql`DELETE FROM rollup_cohort_days WHERE ${chosen}`);
    await queryRows(
      db,
      sql`INSERT INTO rollup_cohort_days (appspace_id, with_flagged, day, cohort, people, amount)
      SELECT appspace_id, with_flagged, day, cohort, SUM(is_first), SUM(amount) FROM rollup_buyers WHERE ${chosen} AND
      cohort IS NOT NULL
      GROUP BY appspace_id, with_flagged, day, cohort`,
    );
  }
}
