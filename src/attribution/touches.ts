import { queryRows, raw, sql, Sql } from "../db/query";
import { Db, isMysql } from "../db/sql";
import { DayEvent, eachDayEvents } from "../rollups/day-events";

/*
 * Touchpoints (events carrying a campaign, source or medium) by person and day,
 * for attribution: rollup_touches holds, per person and day, the day's touches as
 * JSON rows of [time, row id, campaign, source, medium, flagged (0/1)], so the
 * touches of a period's buyers are read a row per buyer and day instead of
 * every touch of the window resolved to its person.
 */

export interface Touch { at: number; id: number; campaign: string | null; source: string | null; medium: string | null }

type StoredTouch = [at: number, id: number, campaign: string | null, source: string | null, medium: string | null, flagged: 0 | 1];

/** The touches among these events: events of a person carrying a channel. */
function touchesAmong(events: readonly DayEvent[]): { person: string; touch: StoredTouch }[] {
  return events.flatMap(e => (e.person !== null && e.ofPerson && (e.campaign !== null || e.source !== null || e.medium !== null)
    ? [{ person: e.person, touch: [e.at, e.id, e.campaign, e.source, e.medium, e.flagged ? 1 : 0] as StoredTouch }]
    : []));
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
 * The touches on days `first` to `last` of the buyers (`query` selects them, in a column person; `people` holds them), per person in time order:
 * clean days from rollup_touches, stale ones from raw events; flagged touches only `withFlagged`.
 */
export async function touchesOf(db: Db, appspaceId: number, first: string, last: string, stale: ReadonlySet<string>,
  buyers: { query: Sql; people: Promise<ReadonlySet<string | null>> }, withFlagged: boolean): Promise<Map<string, Touch[]>> {
  // From the buyers to their rows (primary key: appspace, person, day): MySQL would rather scan the appspace's rows.
  const stored = await queryRows<{ person: string; day: string; touches: string }>(db, sql`
    SELECT t.person, t.day, t.touches FROM (SELECT DISTINCT b.person FROM (${buyers.query}) b) b
      ${raw(isMysql(db) ? "STRAIGHT_JOIN" : "CROSS JOIN")} rollup_touches t ON t.appspace_id = ${appspaceId} AND t.person = b.person AND t.day >= ${first} AND t.day <= ${last}`);
  const byPerson = new Map<string, Touch[]>();
  const add = (person: string, [at, id, campaign, source, medium, flagged]: StoredTouch) => {
    if (flagged === 1 && !withFlagged) return;
    const list = byPerson.get(person);
    const touch = { at, id, campaign, source, medium };
    if (list) list.push(touch);
    else byPerson.set(person, [touch]);
  };
  for (const r of stored) if (!stale.has(r.day)) for (const t of JSON.parse(r.touches) as StoredTouch[]) add(r.person, t);
  const people = await buyers.people;
  await eachDayEvents(db, appspaceId, [...stale].sort(), null, page => {
    for (const { person, touch } of touchesAmong(page)) if (people.has(person)) add(person, touch);
  });
  for (const list of byPerson.values()) list.sort((a, b) => a.at - b.at || a.id - b.id);
  return byPerson;
}
