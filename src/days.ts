import { dbTime } from "./db/sql";

/*
 * UTC days as YYYY-MM-DD strings: the unit every report, rollup and retention rule counts in.
 */

/** Whole UTC days, `start` to `end` inclusive; `from`/`to` bound occurred_at as [from, to). */
export interface Period {
  start: string;
  end: string;
  days: number;
  from: string;
  to: string;
}

export const DAY_MS = 86_400_000;

/** When a day starts, in ms since the epoch. */
export const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);

/** The UTC day of an instant (ms since the epoch). */
export const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function periodOf(start: string, end: string): Period {
  const to = dayMs(end) + DAY_MS;
  return {
    start,
    end,
    days: Math.round((to - dayMs(start)) / DAY_MS),
    from: dbTime(new Date(dayMs(start))),
    to: dbTime(new Date(to)),
  };
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

/**
 * When the oldest UTC day an appspace keeps starts (ms): its retention counts today as the first day. Older events are
 * refused and purged.
 */
export function oldestKeptMs(retentionDays: number, now: Date): number {
  return (Math.floor(now.getTime() / DAY_MS) - (retentionDays - 1)) * DAY_MS;
}

/** The oldest UTC day an appspace keeps, YYYY-MM-DD. */
export const oldestKept = (retentionDays: number, now: Date) => dateOf(oldestKeptMs(retentionDays, now));
