import { queryRows, raw, sql, Sql } from "../db/query";
import { Db, fromDbTime, toNumber } from "../db/sql";
import { personOf } from "../identity/persons";
import { onDays } from "../reports/sources";

/*
 * Touchpoints (events carrying a campaign, source or medium) by person and day,
 * for attribution: rollup_touches holds, per person and day, the day's touches as
 * JSON rows of [time, row id, campaign, source, medium, flagged (0/1)], so the
 * touches of a period's buyers are read a row per buyer and day instead of
 * every touch of the window resolved to its person.
 */

export interface Touch { at: number; id: number; campaign: string | null; source: string | null; medium: string | null }

type StoredTouch = [at: number, id: number, campaign: string | null, source: string | null, medium: string | null, flagged: 0 | 1];

/** Touch events of the appspace on these days (ascending) whose person `buyers` selects (a query of one column, or null for all). */
async function rawTouches(db: Db, appspaceId: number, days: readonly string[], buyers: Sql | null): Promise<{ person: string; touch: StoredTouch }[]> {
  if (days.length === 0) return [];
  const { join, person } = personOf("t");
  const rows = await queryRows<Record<string, unknown>>(db, sql`
    SELECT t.id, t.occurred_at AS at, t.campaign, t.source, t.medium, CASE WHEN t.flags IS NULL THEN 0 ELSE 1 END AS flagged, ${person} AS person
    FROM events t ${join}
    WHERE t.appspace_id = ${appspaceId} AND ${onDays("t", days)} AND (t.campaign IS NOT NULL OR t.source IS NOT NULL OR t.medium IS NOT NULL)
      AND (t.user_id IS NOT NULL OR t.anonymous_id IS NOT NULL)${buyers ? sql` AND ${person} IN (${buyers})` : raw("")}`);
  return rows.map(r => ({
    person: r.person as string,
    touch: [fromDbTime(r.at as string | Date).getTime(), toNumber(r.id), r.campaign as string | null, r.source as string | null, r.medium as string | null, toNumber(r.flagged) as 0 | 1],
  }));
}

/** A day's rollup_touches rows: person and the JSON of their touches. */
export async function touchRows(db: Db, appspaceId: number, day: string): Promise<[person: string, touches: string][]> {
  const byPerson = new Map<string, StoredTouch[]>();
  for (const { person, touch } of await rawTouches(db, appspaceId, [day], null)) {
    const list = byPerson.get(person);
    if (list) list.push(touch);
    else byPerson.set(person, [touch]);
  }
  return [...byPerson].map(([person, touches]) => [person, JSON.stringify(touches)]);
}

/**
 * The touches on days `first` to `last` of the people `buyers` selects, per person in time order:
 * clean days from rollup_touches, stale ones from raw events; flagged touches only `withFlagged`.
 */
export async function touchesOf(db: Db, appspaceId: number, first: string, last: string, stale: ReadonlySet<string>, buyers: Sql, withFlagged: boolean): Promise<Map<string, Touch[]>> {
  const stored = await queryRows<{ person: string; day: string; touches: string }>(db, sql`
    SELECT person, day, touches FROM rollup_touches
    WHERE appspace_id = ${appspaceId} AND person IN (${buyers}) AND day >= ${first} AND day <= ${last}`);
  const byPerson = new Map<string, Touch[]>();
  const add = (person: string, [at, id, campaign, source, medium, flagged]: StoredTouch) => {
    if (flagged === 1 && !withFlagged) return;
    const list = byPerson.get(person);
    const touch = { at, id, campaign, source, medium };
    if (list) list.push(touch);
    else byPerson.set(person, [touch]);
  };
  for (const r of stored) if (!stale.has(r.day)) for (const t of JSON.parse(r.touches) as StoredTouch[]) add(r.person, t);
  for (const { person, touch } of await rawTouches(db, appspaceId, [...stale].sort(), buyers)) add(person, touch);
  for (const list of byPerson.values()) list.sort((a, b) => a.at - b.at || a.id - b.id);
  return byPerson;
}
