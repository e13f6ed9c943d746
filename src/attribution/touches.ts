import { queryRows, sql, Sql } from "../db/query";
import { Db } from "../db/sql";
import { Period } from "../days";
import { DayEvent, eachDayEvents } from "../events/day-events";

/*
 * Touchpoints (events carrying a campaign, source or medium) by person and day,
 * for attribution: rollup_touches holds, per person and day, the day's touches as
 * JSON rows of [time, row id, campaign, source, medium, flagged (0/1)], so the
 * touches of a period's buyers are read a row per buyer and day instead of
 * every touch of the window resolved to its person.
 */

export interface Touch {
  at: number;
  id: number;
  campaign: string | null;
  source: string | null;
  medium: string | null;
  flagged: boolean;
}

type StoredTouch = [
  at: number,
  id: number,
  campaign: string | null,
  source: string | null,
  medium: string | null,
  flagged: 0 | 1,
];

/** The touches among these events: events of a person carrying a channel. */
function touchesAmong(events: readonly DayEvent[]): { person: string; touch: StoredTouch }[] {
  return events.flatMap(e =>
    e.person !== null && e.ofPerson && (e.campaign !== null || e.source !== null || e.medium !== null)
      ? [{ person: e.person, touch: [e.at, e.id, e.campaign, e.source, e.medium, e.flagged ? 1 : 0] as StoredTouch }]
      : [],
  );
}

/** Collects, a page of a day's events at a time, that day's touches per person. */
export class DayTouches {
  private readonly byPerson = new Map<string, StoredTouch[]>();

  add(events: readonly DayEvent[]): void {
    for (const { person, touch } of touchesAmong(events)) {
      const list = this.byPerson.get(person);
      if (list) list.push(touch);
      else this.byPerson.set(person, [touch]);
    }
  }

  /** rollup_touches rows: person and the JSON of their touches. */
  rows(): [person: string, touches: string][] {
    return [...this.byPerson].map(([person, touches]) => [person, JSON.stringify(touches)]);
  }
}

/**
 * The touches in `window` of the buyers `query` selects (in a column person), per person in time order, and the buyers
 * it selected: clean days from rollup_touches, stale ones from raw events.
 */
export async function touchesOf(
  db: Db,
  appspaceId: number,
  window: Period,
  stale: ReadonlySet<string>,
  query: Sql,
): Promise<{ touches: Map<string, Touch[]>; buyers: Set<string> }> {
  // From the buyers to their rows (primary key: appspace, person, day): MySQL would rather scan the appspace's rows.
  // A buyer without rows comes once, with none.
  const stored = await queryRows<{ person: string; day: string | null; touches: string | null }>(
    db,
    sql`
    SELECT b.person, t.day, t.touches FROM (SELECT DISTINCT b.person FROM (${query}) b WHERE b.person IS NOT NULL) b
      LEFT JOIN rollup_touches t ON t.appspace_id = ${appspaceId} AND t.person = b.person AND t.day >= ${window.start}
      AND t.day <= ${window.end}`,
  );
  const buyers = new Set(stored.map(r => r.person));
  const touches = new Map<string, Touch[]>();
  const add = (person: string, [at, id, campaign, source, medium, flagged]: StoredTouch) => {
    const list = touches.get(person);
    const touch = { at, id, campaign, source, medium, flagged: flagged === 1 };
    if (list) list.push(touch);
    else touches.set(person, [touch]);
  };
  for (const r of stored)
    if (r.touches !== null && !stale.has(r.day!))
      for (const t of JSON.parse(r.touches) as StoredTouch[]) add(r.person, t);
  await eachDayEvents(db, appspaceId, [...stale].sort(), null, page => {
    for (const { person, touch } of touchesAmong(page)) if (buyers.has(person)) add(person, touch);
  });
  for (const list of touches.values()) list.sort((a, b) => a.at - b.at || a.id - b.id);
  return { touches, buyers };
}
