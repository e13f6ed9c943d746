import { joinSql, queryRows, raw, sql } from "../db/query";
import { toNumber } from "../db/sql";
import { personOf } from "../identity/persons";
import { eventsIn, percent, ReportScope } from "./scope";

export const FUNNEL_STEPS = [
  { name: "view_item", type: "VIEW_ITEM" },
  { name: "add_to_cart", type: "ADD_TO_CART" },
  { name: "view_cart", type: "VIEW_CART" },
  { name: "begin_checkout", type: "BEGIN_CHECKOUT" },
  { name: "add_payment_info", type: "ADD_PAYMENT_INFO" },
  { name: "purchase", type: "PURCHASE" },
] as const;

export interface FunnelCount {
  name: string;
  count: number;
  percentage: number;
}

/**
 * People who reached each step after every earlier step, in order, within the
 * period: step n counts a person whose first step-n event is at or after the
 * moment they reached step n-1. One statement: a CTE per step.
 */
export async function funnelCounts(scope: ReportScope): Promise<FunnelCount[]> {
  const { join, person } = personOf();
  const steps = FUNNEL_STEPS.map(({ type }, i) => {
    const name = raw(`s${i}`);
    return i === 0
      ? sql`${name} AS (SELECT person, MIN(at) AS at FROM ev WHERE t = '${raw(type)}' GROUP BY person)`
      : sql`${name} AS (SELECT ev.person, MIN(ev.at) AS at FROM ev JOIN ${raw(`s${i - 1}`)} prev ON prev.person = ev.person AND ev.at >= prev.at
          WHERE ev.t = '${raw(type)}' GROUP BY ev.person)`;
  });
  const counts = FUNNEL_STEPS.map((_, i) => raw(`(SELECT COUNT(*) FROM s${i}) AS n${i}`));
  const [row] = await queryRows(scope.db, sql`
    WITH ev AS (
      SELECT ${person} AS person, e.event_type AS t, e.occurred_at AS at FROM events e ${join}
      WHERE ${eventsIn(scope, FUNNEL_STEPS.map(s => s.type))} AND (e.user_id IS NOT NULL OR e.anonymous_id IS NOT NULL)
    ), ${joinSql(steps)}
    SELECT ${joinSql(counts)}`);
  return FUNNEL_STEPS.map(({ name }, i) => {
    const count = toNumber(row[`n${i}`]);
    return { name, count, percentage: i === 0 ? 100 : percent(count, toNumber(row[`n${i - 1}`])) };
  });
}
