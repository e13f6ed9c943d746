import { Arg, Field, InputType, Int, registerEnumType } from "type-graphql";
import { Appspace } from "../appspaces/appspace.entity";
import { dateOf, DAY_MS, dayMs, oldestKept, Period, periodOf } from "../days";
import { BadUserInputError } from "../errors";
import { DateScalar } from "../scalars";

@InputType()
export class DateRange {
  @Field(() => Int, {
    nullable: true,
    description: "Days back from today, today included. Default 30; clamped to the appspace's retention.",
  })
  days?: number;
  @Field(() => DateScalar, { nullable: true, description: "With end: an inclusive range of dates." }) start?: string;
  @Field(() => DateScalar, { nullable: true }) end?: string;
}

export enum CompareTo {
  PREVIOUS_PERIOD = "PREVIOUS_PERIOD",
}
registerEnumType(CompareTo, {
  name: "CompareTo",
  description: "PREVIOUS_PERIOD: the same number of days just before the range.",
});

/** `includeFlagged: Boolean = false` on every report that reads revenue. */
export const IncludeFlaggedArg = () =>
  Arg("includeFlagged", () => Boolean, {
    nullable: true,
    defaultValue: false,
    description: "Also count events a fraud rule flagged (left out by default).",
  });

export const DEFAULT_DAYS = 30;

/**
 * Checks a report's range and turns it into whole UTC days, clamped to the
 * appspace's retention (the oldest day it keeps) and to today.
 */
export function resolveRange(appspace: Appspace, range: DateRange | undefined | null, now: Date): Period {
  const { days, start, end } = range ?? {};
  const hasDates = start != null || end != null;
  if (days != null && hasDates)
    throw new BadUserInputError("range: give either days or start and end, not both", { field: "range" });
  if (hasDates && (start == null || end == null)) {
    throw new BadUserInputError(
      `range.${start == null ? "start" : "end"} is required when range.${start == null ? "end" : "start"} is given`,
      { field: "range" },
    );
  }
  if (days != null && days < 1)
    throw new BadUserInputError(`range.days must be at least 1; got ${days}`, { field: "range.days" });
  if (start != null && end != null && start > end)
    throw new BadUserInputError(`range.start (${start}) is after range.end (${end})`, { field: "range.start" });

  const today = dateOf(now.getTime());
  const oldest = oldestKept(appspace.retentionDays, now);
  const wantedStart =
    start ?? dateOf(dayMs(today) - (Math.min(days ?? DEFAULT_DAYS, appspace.retentionDays) - 1) * DAY_MS);
  const clampedStart = wantedStart < oldest ? oldest : wantedStart;
  const clampedEnd = end == null || end > today ? today : end;
  if (clampedStart > today)
    throw new BadUserInputError(`range.start (${start}) is after today (${today})`, { field: "range.start" });
  if (clampedEnd < oldest) {
    throw new BadUserInputError(
      `range.end (${end}) is older than the appspace keeps data ` +
        `(retention ${appspace.retentionDays} days: from ${oldest})`,
      { field: "range.end" },
    );
  }
  return periodOf(clampedStart, clampedEnd);
}
