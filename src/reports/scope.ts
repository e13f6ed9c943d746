import { eventTypeList, notFlagged } from "../events/event-sql";
import { DataSource } from "typeorm";
import { Appspace } from "../appspaces/appspace.entity";
import { raw, Sql, sql } from "../db/query";
import { Db, toNumber } from "../db/sql";
import { staleDays } from "../rollups/marks";
import { fromMinor } from "../money";
import { Period } from "../days";

/** What every report reads: one appspace's events over one period. */
export interface ReportScope {
  db: DataSource;
  appspace: Appspace;
  period: Period;
  /** Also count events flagged by a fraud rule (left out by default). */
  includeFlagged: boolean;
  /** false: compute from raw events only, never from rollups (for the equality test and the benchmark's baseline). */
  rollups?: boolean;
  /**
   * The server's clock (a range that ends today ends, for what is still open, now); by default the end of the period.
   */
  now?: Date;
}

/** `e.appspace_id = ? AND e.event_type IN (...) AND e.occurred_at` within the period. */
export function eventsIn(
  scope: Pick<ReportScope, "period" | "includeFlagged"> & { appspace: { id: number } },
  types: readonly string[],
  e = "e",
): Sql {
  return sql`${raw(e)}.appspace_id = ${scope.appspace.id} AND ${raw(e)}.event_type IN (${eventTypeList(types)})
    AND ${raw(e)}.occurred_at >= ${scope.period.from} AND ${raw(e)}.occurred_at <
    ${scope.period.to}${notFlagged(scope.includeFlagged, e)}`;
}

/** A summed amount in minor units of the base currency as the major-unit Float the API returns. */
export function money(scope: ReportScope, minor: unknown): number {
  return fromMinor(Math.round(toNumber(minor)), scope.appspace.baseCurrency);
}

/** part / whole in percent, one decimal; 0 when whole is 0. */
export function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part * 1000) / whole) / 10;
}

/** Reports read rollups unless told otherwise (the equality test and the benchmark's baseline do). */
export const fromRollups = (scope: ReportScope) => scope.rollups !== false;

/** The period's stale days: read from raw events, whatever their rollups hold. */
export function staleDaysOf(
  scope: Pick<ReportScope, "period"> & { db: Db; appspace: { id: number } },
): Promise<Set<string>> {
  return staleDays(scope.db, scope.appspace.id, scope.period);
}
