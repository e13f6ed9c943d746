import { Db, isMysql, toNumber, withTransaction } from "../../db/sql";
import { joinSql, queryRows, raw, Sql, sql, valueList } from "../../db/query";
import { personOf } from "../../events/event-sql";
import { daysOf } from "../../days";
import { eventsIn, fromRollups, percent, ReportScope, staleDaysOf } from "../scope";
import { DayEvent, eachDayEvents } from "../../events/day-events";
import { RoaringBitmap32 } from "roaring";
import { emptySet, peopleNumbers, PeopleSet, samePerson, setOf } from "../../rollups/people-sets";

export const FUNNEL_STEPS = [
  { name: "view_item", type: "VIEW_ITEM" },
  { name: "add_to_cart", type: "ADD_TO_CART" },
  { name: "view_cart", type: "VIEW_CART" },
  { name: "begin_checkout", type: "BEGIN_CHECKOUT" },
  { name: "add_payment_info", type: "ADD_PAYMENT_INFO" },
  { name: "purchase", type: "PURCHASE" },
] as const;

export const FUNNEL_TYPES: readonly string[] = FUNNEL_STEPS.map(s => s.type);

export interface FunnelCount {
  name: string;
  count: number;
  percentage: number;
}

/**
 * People who reached each step after every earlier step, in order, within the
 * period: step n counts a person whose first step-n event is at or after the
 * moment they reached step n-1. `stepCount` stops after the first steps (what
 * the overview needs). From rollups, the clean days' moves are read as sets of
 * people (rollup_funnel_sets), the stale days' moves computed from their events.
 */
export async function funnelCounts(
  scope: ReportScope,
  stepCount: number = FUNNEL_STEPS.length,
): Promise<FunnelCount[]> {
  const reached = fromRollups(scope) ? await reachedFromRollups(scope) : await reachedFromEvents(scope);
  const steps = FUNNEL_STEPS.slice(0, stepCount);
  return steps.map(({ name }, i) => ({
    name,
    count: reached[i],
    percentage: i === 0 ? 100 : percent(reached[i], reached[i - 1]),
  }));
}

/**
 * How many people reached each step, from raw events in one statement: each step joins the events
 * of its own type to the people who reached the step before, so every event is read once.
 */
async function reachedFromEvents(scope: ReportScope): Promise<number[]> {
  const { join, person } = personOf();
  // Grouped, so that the database materialises it once with a key on person, rather than merging it into the join.
  const eventsOf = (type: string) => sql`(SELECT ${person} AS person, e.occurred_at AS at FROM events e ${join}
    WHERE ${eventsIn(scope, [type])} AND (e.user_id IS NOT NULL OR e.anonymous_id IS NOT NULL) GROUP BY ${person},
    e.occurred_at)`;
  let reached = sql`SELECT x.person, MIN(x.at) AS at0 FROM ${eventsOf(FUNNEL_TYPES[0])} x GROUP BY x.person`;
  for (let n = 1; n < FUNNEL_TYPES.length; n++) {
    const carried = raw(Array.from({ length: n }, (_, k) => `MIN(r.at${k}) AS at${k}`).join(", "));
    reached = sql`SELECT r.person, ${carried}, MIN(x.at) AS at${raw(String(n))}
      FROM (${reached}) r LEFT JOIN ${eventsOf(FUNNEL_TYPES[n])} x ON x.person = r.person AND x.at >=
      r.at${raw(String(n - 1))}
      GROUP BY r.person`;
  }
  const counts = FUNNEL_TYPES.map((_, n) => raw(`COUNT(at${n}) AS n${n}`));
  const [row] = await queryRows(scope.db, sql`SELECT ${joinSql(counts)} FROM (${reached}) funnel`);
  return FUNNEL_TYPES.map((_, n) => toNumber(row[`n${n}`]));
}

/** A row of rollup_funnel_people. */
export interface FunnelRow {
  person: unknown;
  day: string;
  moves: string;
  moves_all: string;
}

/** The rows of these people (numbers) on the days `days` picks (of rollup_funnel_people r: ` AND r.day ...`). */
export async function peopleFunnelRows(
  db: Db,
  appspaceId: number,
  people: readonly number[],
  days: Sql,
): Promise<FunnelRow[]> {
  const rows: FunnelRow[] = [];
  for (let i = 0; i < people.length; i += 10_000) {
    rows.push(
      ...(await queryRows<FunnelRow>(
        db,
        sql`WITH h (h) AS (VALUES ${valueList(people.slice(i, i + 10_000))})
      SELECT r.person, r.day, r.moves, r.moves_all FROM h JOIN rollup_funnel_people r ON r.appspace_id = ${appspaceId}
      AND r.person = h.h${days}`,
      )),
    );
  }
  return rows;
}

/** The step a person who waits for `step` waits for after a day's moves. */
export const stepAfterDay = (step: number, moves: string) => (step < FUNNEL_TYPES.length ? Number(moves[step]) : step);

/** The step a person waits for after these days' moves (in day order), from the first. */
export const stepAfter = (moves: readonly string[]) => moves.reduce(stepAfterDay, 0);

/** Adds to `counts` (per step: how many reached it) `sign` times a person who waits for `step`. */
export function countReached(counts: number[], step: number, sign = 1): void {
  for (let n = 0; n < step; n++) counts[n] += sign;
}

/** Moves that change nothing: no person-day row is kept for them. */
export const NO_MOVES = "012345";

/**
 * A person's moves over a day: for each step k they may be waiting for when it starts,
 * the step they wait for when it ends (6: all reached), as six digits. `times[n]` holds
 * the times of their step-n events that day, ascending (events come in time order). Every event of the day comes after
 * the moment they reached step k-1 (an earlier day), so from step k the day is walked alone.
 */
export function movesOf(times: readonly (readonly number[])[]): string {
  let moves = "";
  for (let k = 0; k < FUNNEL_TYPES.length; k++) {
    let n = k;
    let since = -Infinity;
    for (; n < FUNNEL_TYPES.length; n++) {
      const at = times[n].find(t => t >= since);
      if (at === undefined) break;
      since = at;
    }
    moves += n;
  }
  return moves;
}

export interface PersonDay {
  day: string;
  person: string;
  /** Over the events no fraud rule flagged. */
  moves: string;
  /** Over every event. */
  movesAll: string;
}

/**
 * Collects, a page of events at a time (of any days, in time order), the moves of each person with funnel events;
 * people are told apart as `same` says (samePerson: as the database does).
 */
export class FunnelDays {
  private readonly days = new Map<string, { day: string; person: string; clean: number[][]; all: number[][] }>();

  constructor(private readonly same: (person: string) => string) {}

  add(events: readonly DayEvent[]): void {
    for (const e of events) {
      const n = STEP.get(e.type);
      if (n === undefined || e.person === null || !e.ofPerson) continue;
      const person = this.same(e.person);
      const key = `${e.day}\u0000${person}`;
      let g = this.days.get(key);
      if (!g)
        this.days.set(
          key,
          (g = { day: e.day, person, clean: FUNNEL_TYPES.map(() => []), all: FUNNEL_TYPES.map(() => []) }),
        );
      g.all[n].push(e.at);
      if (!e.flagged) g.clean[n].push(e.at);
    }
  }

  /** One row per day and person; rows with nothing to move are left out. */
  rows(): PersonDay[] {
    const out: PersonDay[] = [];
    for (const g of this.days.values()) {
      const [moves, movesAll] = [movesOf(g.clean), movesOf(g.all)];
      if (moves !== NO_MOVES || movesAll !== NO_MOVES) out.push({ day: g.day, person: g.person, moves, movesAll });
    }
    return out;
  }
}

const STEP = new Map(FUNNEL_TYPES.map((t, n) => [t, n]));

/** Per day, variant (with flagged events or not) and move from a step to a later one: the people who made it. */
export class FunnelSets {
  readonly sets = new Map<string, { day: string; withFlagged: number; from: number; to: number; people: PeopleSet }>();

  add(rows: readonly PersonDay[], numberOf: (person: string) => number): void {
    for (const r of rows) {
      const person = numberOf(r.person);
      for (const [withFlagged, moves] of [
        [0, r.moves],
        [1, r.movesAll],
      ] as const) {
        for (let from = 0; from < FUNNEL_TYPES.length; from++) {
          const to = Number(moves[from]);
          if (to === from) continue;
          const key = `${r.day}|${withFlagged}|${from}|${to}`;
          let move = this.sets.get(key);
          if (!move) this.sets.set(key, (move = { day: r.day, withFlagged, from, to, people: emptySet() }));
          move.people.add(person);
        }
      }
    }
  }
}

/**
 * How many people reached each step when every stale day comes after the clean ones: the clean days' pairs summed
 * (rollup_funnel_pairs: src/reports/funnel/funnel-pairs.ts), then for each person with moves on the stale days
 * (computed from their events), the steps they reach with them instead of those they reached before (from
 * rollup_funnel_people).
 */
async function reachedFromPairs(
  scope: ReportScope,
  clean: readonly string[],
  stale: readonly string[],
): Promise<number[]> {
  const { db, appspace } = scope;
  const [first, last] = [clean[0], clean[clean.length - 1]];
  const pick = (clean: string, all: string) => (scope.includeFlagged ? all : clean);
  const byDay = (a: { day: string }, b: { day: string }) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0);
  const add = (moves: Map<string | number, string[]>, person: string | number, m: string) => {
    const list = moves.get(person);
    if (list) list.push(m);
    else moves.set(person, [m]);
  };
  // Each person's moves on the stale days, in day order.
  const later = new Map<string, string[]>();
  if (stale.length > 0) {
    const fresh = new FunnelDays(samePerson(db));
    await eachDayEvents(db, appspace.id, stale, FUNNEL_TYPES, page => fresh.add(page));
    for (const r of fresh.rows().sort(byDay)) add(later, r.person, pick(r.moves, r.movesAll));
  }
  // The pairs, and those people's moves on the clean days, as of one moment: one statement on MySQL, else one
  // transaction (on SQLite's shared connection, a read outside the queue could see a refresh half done).
  const read = async (em: Db) => {
    const reached = FUNNEL_TYPES.map(() => 0);
    if (clean.length === 0 && later.size === 0) return reached;
    if (clean.length > 0) {
      const [row] = await queryRows(
        em,
        sql`SELECT ${joinSql(FUNNEL_TYPES.map((_, n) => raw(`COALESCE(SUM(reached${n}), 0) AS reached${n}`)))}
        FROM rollup_funnel_pairs WHERE appspace_id = ${appspace.id} AND with_flagged = ${scope.includeFlagged ? 1 : 0}
        AND day_from >= ${first} AND day_from <= ${last} AND day_to <= ${last}`,
      );
      FUNNEL_TYPES.forEach((_, n) => (reached[n] += toNumber(row[`reached${n}`])));
    }
    if (later.size === 0) return reached;
    const numberOf = await peopleNumbers(em, appspace.id, later.keys());
    const earlier = new Map<string | number, string[]>();
    if (clean.length > 0) {
      const rows = await peopleFunnelRows(
        em,
        appspace.id,
        [...later.keys()].map(numberOf),
        sql` AND r.day >= ${first} AND r.day <= ${last}`,
      );
      for (const r of rows.sort(byDay)) add(earlier, toNumber(r.person), pick(r.moves, r.moves_all));
    }
    for (const [person, moves] of later) {
      const before = earlier.get(numberOf(person)) ?? [];
      countReached(reached, stepAfter([...before, ...moves]));
      countReached(reached, stepAfter(before), -1);
    }
    return reached;
  };
  return isMysql(db) && later.size === 0 ? read(db) : withTransaction(db, read);
}

/**
 * How many people reached each step: the sets of people waiting for each step, moved day after day by the days'
 * sets of moves, clean days' from rollup_funnel_sets, stale days' computed from their events.
 */
async function reachedFromRollups(scope: ReportScope): Promise<number[]> {
  const stale = await staleDaysOf(scope);
  const days = daysOf(scope.period);
  // Stale days at the end only (none, or today while it is written to): the clean days before them are summed
  // from pairs.
  const clean = days.filter(d => !stale.has(d));
  if (clean.every((d, n) => d === days[n])) return reachedFromPairs(scope, clean, days.slice(clean.length));
  return walkMoves(days, await movesByDay(scope, stale));
}

/** A day's moves: the people who moved from one step to another that day. */
type DayMove = { from: number; to: number; people: PeopleSet };

/** The period's moves by day: clean days' from rollup_funnel_sets, stale days' computed from their events. */
async function movesByDay(scope: ReportScope, stale: ReadonlySet<string>): Promise<Map<string, DayMove[]>> {
  const withFlagged = scope.includeFlagged ? 1 : 0;
  const stored = await queryRows<{ day: string; from_step: unknown; to_step: unknown; people: Buffer }>(
    scope.db,
    sql`SELECT day, from_step, to_step, people FROM rollup_funnel_sets WHERE appspace_id = ${scope.appspace.id}
      AND with_flagged = ${withFlagged} AND day >= ${scope.period.start} AND day <= ${scope.period.end}`,
  );
  const fresh = new FunnelDays(samePerson(scope.db));
  await eachDayEvents(scope.db, scope.appspace.id, [...stale].sort(), FUNNEL_TYPES, page => fresh.add(page));
  const rows = fresh.rows();
  const computed = new FunnelSets();
  computed.add(
    rows,
    await peopleNumbers(
      scope.db,
      scope.appspace.id,
      rows.map(r => r.person),
    ),
  );
  const byDay = new Map<string, DayMove[]>();
  const add = (day: string, move: DayMove) => byDay.set(day, [...(byDay.get(day) ?? []), move]);
  for (const r of stored) {
    if (!stale.has(r.day))
      add(r.day, { from: toNumber(r.from_step), to: toNumber(r.to_step), people: setOf(r.people) });
  }
  for (const m of computed.sets.values()) if (m.withFlagged === withFlagged) add(m.day, m);
  return byDay;
}

/** How many people reached each step: the sets of people waiting for each step, moved day after day. */
function walkMoves(days: readonly string[], byDay: ReadonlyMap<string, DayMove[]>): number[] {
  // waiting[n]: the people waiting for step n (6: all reached); the others wait for the first step.
  const waiting = [...FUNNEL_TYPES, "done"].map(() => emptySet());
  const started = emptySet();
  for (const day of days) {
    // Each person makes at most one move a day, from where they were at its start.
    const made = (byDay.get(day) ?? []).map(m => ({
      ...m,
      people: m.from === 0 ? RoaringBitmap32.andNot(m.people, started) : RoaringBitmap32.and(m.people, waiting[m.from]),
    }));
    for (const { from, to, people } of made) {
      if (from === 0) started.orInPlace(people);
      else waiting[from].andNotInPlace(people);
      waiting[to].orInPlace(people);
    }
  }
  return FUNNEL_TYPES.map((_, n) => waiting.slice(n + 1).reduce((sum, set) => sum + set.size, 0));
}
