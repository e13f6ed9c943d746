import { joinSql, raw, Sql, sql } from "../db/query";
import { Db } from "../db/sql";
import { addDays, periodOf } from "../days";
import { dialectOf } from "../db/dialect";

/*
 * Pieces of SQL over the events table that reports, rollups and ingest share: how an event's person, flag,
 * channel and day are read, and how a set of days or types is written as a condition.
 */

/** Event types as a literal SQL list: they come from the EventType enum and fixed lists, never from input. */
export function eventTypeList(types: readonly string[]): Sql {
  return raw(types.map(t => `'${t.replace(/[^A-Z_]/g, "")}'`).join(", "));
}

/** ` AND e.flags IS NULL`, unless flagged events are asked for. */
export function notFlagged(includeFlagged: boolean, e = "e"): Sql {
  return raw(includeFlagged ? "" : ` AND ${e}.flags IS NULL`);
}

/** Where raw rows come from: a FROM clause that binds `events e` (refunds: `events c`) and its conditions. */
export interface RawSelection {
  from: Sql;
  where: Sql;
}

export const flaggedOf = (alias: string) => raw(`CASE WHEN ${alias}.flags IS NULL THEN 0 ELSE 1 END`);

/** Whether an event carries a channel: a campaign, source or medium. */
export const tagged = (alias: string) =>
  raw(`(${alias}.campaign IS NOT NULL OR ${alias}.source IS NOT NULL OR ${alias}.medium IS NOT NULL)`);

/** 1 when the event carries a channel, else 0 (for the marks of the day after: markChangedDays). */
export const taggedFlag = (alias: string) => raw(`CASE WHEN ${tagged(alias).text} THEN 1 ELSE 0 END`);

/** Whether the event belongs to someone: it has a userId or an anonymousId. */
export const someone = (alias: string) => raw(`(${alias}.user_id IS NOT NULL OR ${alias}.anonymous_id IS NOT NULL)`);

/**
 * How reports tell people apart: an event belongs to its userId, or to its
 * anonymousId when it has none, and a linked identifier belongs to its person.
 * `join` goes after `FROM events e`; `person` is then the person's key (null for
 * an event with neither id).
 */
export function personOf(e = "e"): { join: Sql; person: Sql } {
  return {
    join: raw(
      ` LEFT JOIN identity_persons ip ON ip.appspace_id = ${e}.appspace_id AND ip.identifier = COALESCE(${e}.user_id,
        ${e}.anonymous_id)`,
    ),
    person: raw(`COALESCE(ip.person, ${e}.user_id, ${e}.anonymous_id)`),
  };
}

/**
 * `events <alias>` read through the order index (appspace, transactionId, type, time). Most
 * events carry no transactionId, so index statistics undersell this index: it is named.
 */
export function orderEvents(db: Db, alias: string): Sql {
  return dialectOf(db).throughIndex("events", alias, "ix_events_transaction_type");
}

/** Days (ascending) as runs of consecutive days: [first, last] each. */
export function dayRuns(days: readonly string[]): [first: string, last: string][] {
  const runs: [string, string][] = [];
  for (const day of days) {
    const last = runs.at(-1);
    if (last && addDays(last[1], 1) === day) last[1] = day;
    else runs.push([day, day]);
  }
  return runs;
}

/** `alias.occurred_at` within one of `days`, ascending (runs of consecutive days as one range). */
export function onDays(alias: string, days: readonly string[]): Sql {
  return sql`(${joinSql(
    dayRuns(days).map(([first, last]) => {
      const { from, to } = periodOf(first, last);
      return sql`${raw(alias)}.occurred_at >= ${from} AND ${raw(alias)}.occurred_at < ${to}`;
    }),
    " OR ",
  )})`;
}
