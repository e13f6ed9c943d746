import { Arg, Field, InputType, Int, registerEnumType } from "type-graphql";
import { Appspace } from "../appspaces/appspace.entity";
import { dbTime } from "../db/sql";
import { BadUserInputError } from "../errors";
import { DateScalar } from "../scalars";

@InputType()
export class DateRange {
  @Field(() => Int, { nullable: true, description: "Days back from today, today included. Default 30; clamped to the appspace's retention." }) days?: number;
  @Field(() => DateScalar, { nullable: true, description: "With end: an inclusive range of dates." }) start?: string;
  @Field(() => DateScalar, { nullable: true }) end?: string;
}

export enum CompareTo {
  PREVIOUS_PERIOD = "PREVIOUS_PERIOD",
}
registerEnumType(CompareTo, { name: "CompareTo", description: "PREVIOUS_PERIOD: the same number of days just before the range." });

/** `includeFlagged: Boolean = false` on every report that reads revenue. */
export const IncludeFlaggedArg = () =>
  Arg("includeFlagged", () => Boolean, { nullable: true, defaultValue: false, description: "Also count events a fraud rule flagged (left out by default)." });

/** Whole UTC days, `start` to `end` inclusive; `from`/`to` bound occurred_at as [from, to). */
export interface Period {
  start: string;
  end: string;
  days: number;
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
export const DEFAULT_DAYS = 30;

const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function periodOf(start: string, end: string): Period {
  const to = dayMs(end) + DAY_MS;
  return { start, end, days: Math.round((to - dayMs(start)) / DAY_MS), from: dbTime(new Date(dayMs(start))), to: dbTime(new Date(to)) };
}

/** The day `n` days after `day` (before, for a negative n); YYYY-MM-DD. */
export const addDays = (day: string, n: number) => dateOf(dayMs(day) + n * DAY_MS);

/** The `days` days just before `period`. */
export function previousPeriod(period: Period): Period {
  const end = dayMs(period.start) - DAY_MS;
  return periodOf(dateOf(end - (period.days - 1) * DAY_MS), dateOf(end));
}

/** Every day of the period, oldest first. */
export function daysOf(period: Period): string[] {
  return Array.from({ length: period.days }, (_, i) => dateOf(dayMs(period.start) + i * DAY_MS));
}

/** When the oldest UTC day an appspace keeps starts (ms): its retention counts today as the first day. Older events are refused and purged. */
export function oldestKeptMs(retentionDays: number, now: Date): number {
  return (Math.floor(now.getTime() / DAY_MS) - (retentionDays - 1)) * DAY_MS;
}

/** The oldest UTC day an appspace keeps, YYYY-MM-DD. */
export const oldestKept = (retentionDays: number, now: Date) => dateOf(oldestKeptMs(retentionDays, now));

/**
 * Checks a report's range and turns it into whole UTC days, clamped to the
 * appspace's retention (the oldest day it keeps) and to today.
 */
export function resolveRange(appspace: Appspace, range: DateRange | undefined | null, now: Date): Period {
  const { days, start, end } = range ?? {};
  const hasDates = start != null || end != null;
  if (days != null && hasDates) throw new BadUserInputError("range: give either days or start and end, not both", { field: "range" });
  if (hasDates && (start == null || end == null)) {
    throw new BadUserInputError(`range.${start == null ? "start" : "end"} is required when range.${start == null ? "end" : "start"} is given`, { field: "range" });
  }
  if (days != null && days < 1) throw new BadUserInputError(`range.days must be at least 1; got ${days}`, { field: "range.days" });
  if (start != null && end != null && start > end) throw new BadUserInputError(`range.start (${start}) is after range.end (${end})`, { field: "range.start" });

  const today = dateOf(now.getTime());
  const oldest = oldestKept(appspace.retentionDays, now);
  const wantedStart = start ?? dateOf(dayMs(today) - (Math.min(days ?? DEFAULT_DAYS, appspace.retentionDays) - 1) * DAY_MS);
  const clampedStart = wantedStart < oldest ? oldest : wantedStart;
  const clampedEnd = end == null || end > today ? today : end;
  if (clampedStart > today) throw new BadUserInputError(`range.start (${start}) is after today (${today})`, { field: "range.start" });
  if (clampedEnd < oldest) {
    throw new BadUserInputError(`range.end (${end}) is older than the appspace keeps data (retention ${appspace.retentionDays} days: from ${oldest})`, { field: "range.end" });
  }
  return periodOf(clampedStart, clampedEnd);
}
