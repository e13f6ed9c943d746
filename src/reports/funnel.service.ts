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
 * moment they reached step n-1. One statement: each step joins the events of its
 * own type to the people who reached the step before, so every event is read once.
 * `stepCount` stops after the first steps (what the overview needs).
 */
export async function funnelCounts(scope: ReportScope, stepCount: number = FUNNEL_STEPS.length): Promise<FunnelCount[]> {
  const steps = FUNNEL_STEPS.slice(0, stepCount);
  const { join, person } = personOf();
  // Grouped, so that the database materialises it once with a key on person, rather than merging it into the join.
  const eventsOf = (type: string) => sql`(SELECT ${person} AS person, e.occurred_at AS at FROM events e ${join}
    WHERE ${eventsIn(scope, [type])} AND (e.user_id IS NOT NULL OR e.anonymous_id IS NOT NULL) GROUP BY ${person}, e.occurred_at)`;
  let reached = sql`SELECT x.person, MIN(x.at) AS at0 FROM ${eventsOf(steps[0].type)} x GROUP BY x.person`;
  for (let n = 1; n < steps.length; n++) {
    const carried = raw(Array.from({ length: n }, (_, k) => `MIN(r.at${k}) AS at${k}`).join(", "));
    reached = sql`SELECT r.person, ${carried}, MIN(x.at) AS at${raw(String(n))}
      FROM (${reached}) r LEFT JOIN ${eventsOf(steps[n].type)} x ON x.person = r.person AND x.at >= r.at${raw(String(n - 1))}
      GROUP BY r.person`;
  }
  const counts = steps.map((_, n) => raw(`COUNT(at${n}) AS n${n}`));
  const [row] = await queryRows(scope.db, sql`SELECT ${joinSql(counts)} FROM (${reached}) funnel`);
  return steps.map(({ name }, i) => {
    const count = toNumber(row[`n${i}`]);
    return { name, count, percentage: i === 0 ? 100 : percent(count, toNumber(row[`n${i - 1}`])) };
  });
}
