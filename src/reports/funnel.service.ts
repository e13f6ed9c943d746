import { toNumber } from "../db/sql";
import { joinSql, queryRows, raw, sql } from "../db/query";
import { personOf } from "../identity/persons";
import { daysOf } from "./range";
import { eventsIn, percent, ReportScope } from "./scope";
import { DayEvent, eachDayEvents } from "../rollups/day-events";
import { fromRollups, staleDaysOf } from "./sources";

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
 * the overview needs). From rollups, each person's clean days are read as moves
 * (rollup_funnel), the stale days' moves computed from their events.
 */
export async function funnelCounts(scope: ReportScope, stepCount: number = FUNNEL_STEPS.length): Promise<FunnelCount[]> {
  const reached = fromRollups(scope) ? await reachedFromRollups(scope) : await reachedFromEvents(scope);
  const steps = FUNNEL_STEPS.slice(0, stepCount);
  return steps.map(({ name }, i) => ({ name, count: reached[i], percentage: i === 0 ? 100 : percent(reached[i], reached[i - 1]) }));
}

/**
 * How many people reached each step, from raw events in one statement: each step joins the events
 * of its own type to the people who reached the step before, so every event is read once.
 */
async function reachedFromEvents(scope: ReportScope): Promise<number[]> {
  const { join, person } = personOf();
  // Grouped, so that the database materialises it once with a key on person, rather than merging it into the join.
  const eventsOf = (type: string) => sql`(SELECT ${person} AS person, e.occurred_at AS at FROM events e ${join}
    WHERE ${eventsIn(scope, [type])} AND (e.user_id IS NOT NULL OR e.anonymous_id IS NOT NULL) GROUP BY ${person}, e.occurred_at)`;
  let reached = sql`SELECT x.person, MIN(x.at) AS at0 FROM ${eventsOf(FUNNEL_TYPES[0])} x GROUP BY x.person`;
  for (let n = 1; n < FUNNEL_TYPES.length; n++) {
    const carried = raw(Array.from({ length: n }, (_, k) => `MIN(r.at${k}) AS at${k}`).join(", "));
    reached = sql`SELECT r.person, ${carried}, MIN(x.at) AS at${raw(String(n))}
      FROM (${reached}) r LEFT JOIN ${eventsOf(FUNNEL_TYPES[n])} x ON x.person = r.person AND x.at >= r.at${raw(String(n - 1))}
      GROUP BY r.person`;
  }
  const counts = FUNNEL_TYPES.map((_, n) => raw(`COUNT(at${n}) AS n${n}`));
  const [row] = await queryRows(scope.db, sql`SELECT ${joinSql(counts)} FROM (${reached}) funnel`);
  return FUNNEL_TYPES.map((_, n) => toNumber(row[`n${n}`]));
}

/** Moves that change nothing: no row is stored for them. */
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

/** Collects, a page of events at a time (of any days, in time order), the moves of each person with funnel events. */
export class FunnelDays {
  private readonly days = new Map<string, { day: string; person: string; clean: number[][]; all: number[][] }>();

  add(events: readonly DayEvent[]): void {
    for (const e of events) {
      const n = STEP.get(e.type);
      if (n === undefined || e.person === null || !e.ofPerson) continue;
      const key = `${e.day}\u0000${e.person}`;
      let g = this.days.get(key);
      if (!g) this.days.set(key, (g = { day: e.day, person: e.person, clean: FUNNEL_TYPES.map(() => []), all: FUNNEL_TYPES.map(() => []) }));
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

/** How many people reached each step: every person's moves applied day after day, clean days from rollup_funnel. */
async function reachedFromRollups(scope: ReportScope): Promise<number[]> {
  const stale = await staleDaysOf(scope);
  const column = raw(scope.includeFlagged ? "moves_all" : "moves");
  const stored = await queryRows<{ day: string; person: string; moves: string }>(scope.db, sql`
    SELECT day, person, ${column} AS moves FROM rollup_funnel
    WHERE appspace_id = ${scope.appspace.id} AND day >= ${scope.period.start} AND day <= ${scope.period.end} AND ${column} <> ${NO_MOVES}`);
  const fresh = new FunnelDays();
  await eachDayEvents(scope.db, scope.appspace.id, [...stale].sort(), FUNNEL_TYPES, page => fresh.add(page));
  const computed = fresh.rows();
  const byDay = new Map<string, { person: string; moves: string }[]>();
  const add = (day: string, person: string, moves: string) => {
    const list = byDay.get(day);
    if (list) list.push({ person, moves });
    else byDay.set(day, [{ person, moves }]);
  };
  for (const r of stored) if (!stale.has(r.day)) add(r.day, r.person, r.moves);
  for (const r of computed) add(r.day, r.person, scope.includeFlagged ? r.movesAll : r.moves);

  // The step each person waits for; 6 once they reached them all.
  const waiting = new Map<string, number>();
  for (const day of daysOf(scope.period)) {
    for (const { person, moves } of byDay.get(day) ?? []) {
      const at = waiting.get(person) ?? 0;
      if (at < FUNNEL_TYPES.length) waiting.set(person, Number(moves[at]));
    }
  }
  const reached = FUNNEL_TYPES.map(() => 0);
  for (const at of waiting.values()) for (let n = 0; n < at; n++) reached[n]++;
  return reached;
}
