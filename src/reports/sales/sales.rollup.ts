import { joinSql, queryRows, raw, sql, Sql } from "../../db/query";
import { addDays, periodOf } from "../../days";
import { RawSelection } from "../../events/event-sql";
import { DayRollup, RefreshingDay } from "../../rollups/day-rollup";
import { deleteDayRows, deleteRowsBefore } from "../../rollups/day-rows";
import { isMarked } from "../../rollups/marks";
import { ORDER_DIMENSIONS, productRows, purchaseRows, refundRows, ROLLUP_GRAINS, WEEK } from "./sources";

/*
 * The sales read model: per day, purchases summed by grain (rollup_sales), purchased lines by item
 * (rollup_products), refunds and cancels (rollup_refunds), and seven-day sums of the first two (the *_7d tables,
 * keyed by a span's first day), so that a month reads about four rows per group instead of thirty.
 */

const DAY_TABLES = ["rollup_sales", "rollup_products", "rollup_refunds"] as const;
const SPAN_TABLES = ["rollup_sales_7d", "rollup_products_7d"] as const;

export const salesRollup: DayRollup = {
  name: "sales",
  tables: [...DAY_TABLES, ...SPAN_TABLES],

  async refreshDay(day) {
    await deleteDayRows(day.db, day.appspaceId, day.day, DAY_TABLES);
    for (const statement of dayStatements(day)) {
      day.check();
      await queryRows(day.db, statement);
    }
    return {
      // Marked again meanwhile (today under steady ingest is, within milliseconds), the day keeps its spans from being
      // read until its next refresh, which computes them: computing them now would be wasted.
      finish: async () => {
        if (!(await isMarked(day.db, day.appspaceId, day.day))) await refreshWeeks(day);
      },
    };
  },

  async forget() {
    // Sums of orders name no person: the deletion's marks have the days recomputed without them.
  },

  async purgeBefore(db, appspaceId, oldestDay) {
    await deleteRowsBefore(db, appspaceId, oldestDay, DAY_TABLES);
    // A span that also holds kept days stays, for a comparison period reaching past the retention: the purged
    // days' marks have it recomputed from what is kept.
    await deleteRowsBefore(db, appspaceId, addDays(oldestDay, 1 - WEEK), SPAN_TABLES);
  },
};

/** The statements that recompute a day's rows from its events. */
function dayStatements({ db, appspaceId, day }: RefreshingDay): Sql[] {
  const { from, to } = periodOf(day, day);
  const selection = (alias: string, types: string): RawSelection => ({
    from: raw(`events ${alias}`),
    where: sql`${raw(alias)}.appspace_id = ${appspaceId} AND ${raw(alias)}.event_type IN (${raw(types)})
      AND ${raw(alias)}.occurred_at >= ${from} AND ${raw(alias)}.occurred_at < ${to}`,
  });
  const dims = ORDER_DIMENSIONS.join(", ");
  return [
    // seq numbers a day's rows of a grain (part of the key the rows are stored in).
    sql`INSERT INTO rollup_sales (appspace_id, day, grain, flagged, seq, ${raw(dims)}, orders, revenue, discount, items)
      SELECT ${appspaceId}, day, 'all', flagged, ROW_NUMBER() OVER (), ${raw(dims)}, SUM(orders),
      COALESCE(SUM(revenue), 0),
        COALESCE(SUM(discount), 0), COALESCE(SUM(items), 0)
      FROM (${purchaseRows(db, selection("e", "'PURCHASE'"))}) s GROUP BY day, flagged, ${raw(dims)}`,
    // The coarser grains, from the day's rows of every dimension.
    ...Object.entries(ROLLUP_GRAINS)
      .filter(([grain]) => grain !== "all")
      .map(([grain, columns]) => {
        const list = raw(columns.map(c => `, ${c}`).join(""));
        return sql`INSERT INTO rollup_sales (appspace_id, day, grain, flagged, seq${list}, orders, revenue, discount,
          items)
        SELECT appspace_id, day, ${grain}, flagged, ROW_NUMBER() OVER ()${list}, SUM(orders), SUM(revenue),
        SUM(discount), SUM(items)
        FROM rollup_sales WHERE appspace_id = ${appspaceId} AND day = ${day} AND grain = 'all' GROUP BY appspace_id,
        day, flagged${list}`;
      }),
    sql`INSERT INTO rollup_products (appspace_id, day, flagged, item_id, revenue, quantity, orders)
      SELECT ${appspaceId}, day, flagged, item_id, revenue, quantity, orders FROM
      (${productRows(db, selection("e", "'PURCHASE'"))}) s`,
    sql`INSERT INTO rollup_refunds (appspace_id, day, flagged, refunds, amount)
      SELECT ${appspaceId}, day, flagged, refunds, amount FROM
      (${refundRows(db, selection("c", "'REFUND', 'CANCEL'"))}) s`,
  ];
}

/**
 * Recomputes, from the daily rows, the seven-day rows of the seven spans that hold `day`. The other
 * days of a span may be stale meanwhile: reports use a span only while none of its days is, and a
 * stale day's refresh recomputes its spans again.
 */
async function refreshWeeks({ db, appspaceId, day }: RefreshingDay): Promise<void> {
  const spans = Array.from({ length: WEEK }, (_, n) => addDays(day, n - (WEEK - 1)));
  // The spans as a derived table of (first_day, last_day).
  const starts = joinSpans(spans);
  const dims = raw(ORDER_DIMENSIONS.map(d => `r.${d}`).join(", "));
  // The daily rows they sum, read as one range (a join on the spans alone would read the appspace's rows once per
  // span).
  const read = sql`r.appspace_id = ${appspaceId} AND r.day >= ${spans[0]} AND r.day <= ${addDays(day, WEEK - 1)}`;
  const statements: Sql[] = [
    sql`DELETE FROM rollup_sales_7d WHERE appspace_id = ${appspaceId} AND day >= ${spans[0]} AND day <= ${day}`,
    sql`DELETE FROM rollup_products_7d WHERE appspace_id = ${appspaceId} AND day >= ${spans[0]} AND day <= ${day}`,
    sql`INSERT INTO rollup_sales_7d (appspace_id, day, grain, flagged, seq, ${raw(ORDER_DIMENSIONS.join(", "))},
      orders, revenue, discount, items)
      SELECT ${appspaceId}, b.first_day, r.grain, r.flagged, ROW_NUMBER() OVER (), ${dims},
        SUM(r.orders), SUM(r.revenue), SUM(r.discount), SUM(r.items)
      FROM rollup_sales r JOIN (${starts}) b ON r.day >= b.first_day AND r.day <= b.last_day
      WHERE ${read} GROUP BY b.first_day, r.grain, r.flagged, ${dims}`,
    sql`INSERT INTO rollup_products_7d (appspace_id, day, flagged, item_id, revenue, quantity, orders)
      SELECT ${appspaceId}, b.first_day, r.flagged, r.item_id, SUM(r.revenue), SUM(r.quantity), SUM(r.orders)
      FROM rollup_products r JOIN (${starts}) b ON r.day >= b.first_day AND r.day <= b.last_day
      WHERE ${read} GROUP BY b.first_day, r.flagged, r.item_id`,
  ];
  for (const s of statements) await queryRows(db, s);
}

/** Spans of seven days from each of `firsts`, as a derived table of (first_day, last_day). */
function joinSpans(firsts: readonly string[]): Sql {
  return joinSql(
    firsts.map(start => sql`SELECT ${start} AS first_day, ${addDays(start, WEEK - 1)} AS last_day`),
    " UNION ALL ",
  );
}

/** Days after `day`, up to `last`, with purchases rolled up (attribution reads its credits' days from it). */
export async function daysWithSales(
  db: RefreshingDay["db"],
  appspaceId: number,
  day: string,
  last: string,
): Promise<string[]> {
  const rows = await queryRows<{ day: string }>(
    db,
    sql`SELECT DISTINCT day FROM rollup_sales
    WHERE appspace_id = ${appspaceId} AND day > ${day} AND day <= ${last} AND grain = 'total'`,
  );
  return rows.map(r => r.day);
}
