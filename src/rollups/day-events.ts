import { dayOf, queryRows, raw, sql } from "../db/query";
import { Db, fromDbTime, toNumber } from "../db/sql";
import { personOf } from "../identity/persons";
import { onDays } from "../reports/sources";

/** An event as the rollups of what people did read it: its person resolved, its lines for cart events. */
export interface DayEvent {
  day: string;
  id: number;
  type: string;
  at: number;
  cartId: string | null;
  /** Null for an event with neither userId nor anonymousId. */
  person: string | null;
  flagged: boolean;
  campaign: string | null;
  source: string | null;
  medium: string | null;
  /** Add-to-cart and remove-from-cart lines. */
  lines: { line: number; itemId: string; quantity: number; price: number | null }[];
}

/** The appspace's events on these days (ascending) of `types` (null: all), in one statement. */
export async function readDayEvents(db: Db, appspaceId: number, days: readonly string[], types: readonly string[] | null): Promise<DayEvent[]> {
  if (days.length === 0) return [];
  const { join, person } = personOf();
  // Event types come from fixed lists, never from input.
  const typed = types ? raw(` AND e.event_type IN (${types.map(t => `'${t.replace(/[^A-Z_]/g, "")}'`).join(", ")})`) : raw("");
  const rows = await queryRows<Record<string, unknown>>(db, sql`
    SELECT ${dayOf(db, "e.occurred_at")} AS day, e.id, e.event_type AS t, e.occurred_at AS at, e.cart_id, ${person} AS person,
      CASE WHEN e.flags IS NULL THEN 0 ELSE 1 END AS flagged, e.campaign, e.source, e.medium, i.line, i.item_id, i.quantity, i.price
    FROM events e ${join} LEFT JOIN event_items i ON i.event_row_id = e.id AND e.event_type IN ('ADD_TO_CART', 'REMOVE_FROM_CART')
    WHERE e.appspace_id = ${appspaceId}${typed} AND ${onDays("e", days)}`);
  const events = new Map<number, DayEvent>();
  for (const r of rows) {
    const id = toNumber(r.id);
    let e = events.get(id);
    if (!e) {
      e = {
        day: r.day as string, id, type: r.t as string, at: fromDbTime(r.at as string | Date).getTime(), cartId: (r.cart_id as string | null) ?? null,
        person: (r.person as string | null) ?? null, flagged: toNumber(r.flagged) === 1,
        campaign: (r.campaign as string | null) ?? null, source: (r.source as string | null) ?? null, medium: (r.medium as string | null) ?? null, lines: [],
      };
      events.set(id, e);
    }
    if (r.item_id != null) e.lines.push({ line: toNumber(r.line), itemId: r.item_id as string, quantity: toNumber(r.quantity), price: r.price == null ? null : toNumber(r.price) });
  }
  return [...events.values()];
}

/** Events grouped by day. */
export function byDay(events: readonly DayEvent[]): Map<string, DayEvent[]> {
  const days = new Map<string, DayEvent[]>();
  for (const e of events) {
    const list = days.get(e.day);
    if (list) list.push(e);
    else days.set(e.day, [e]);
  }
  return days;
}
