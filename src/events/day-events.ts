import { inList, queryRows, raw, Sql, sql } from "../db/query";
import { dayOf, dialectOf } from "../db/dialect";
import { Db, dbTime, fromDbTime, toNumber } from "../db/sql";
import { eventTypeList, personOf } from "./event-sql";
import { periodOf } from "../days";

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
  /** Read for its person's part (see Part): what is collected per person takes it in. */
  ofPerson: boolean;
  /** Read for its cartId's part: what is collected per cartId takes it in. */
  ofCart: boolean;
}

/**
 * One of `of` parts of a day's people and cartIds (by the last character of the identifier), so that a
 * busy day is collected a part at a time: an event is read for the part of its person and that of its cartId.
 */
export interface Part {
  index: number;
  of: number;
}

/** Events read per statement: a day of any size is read a page at a time, so what is held stays small. */
const PAGE = 5000;

const purchaseLast = (e: DayEvent) => (e.type === "PURCHASE" ? 1 : 0);

/**
 * Hands the appspace's events on these days of `types` (null: all) to `visit`, a page at a time, in time
 * order: by time, then adds and removes before a purchase of the same instant, then row id. A page holds
 * whole instants (every event of a time it holds), so that order holds across pages too.
 */
export async function eachDayEvents(
  db: Db,
  appspaceId: number,
  days: readonly string[],
  types: readonly string[] | null,
  visit: (page: DayEvent[]) => void,
  opts: { part?: Part; pageSize?: number } = {},
): Promise<void> {
  const { part = { index: 0, of: 1 }, pageSize = PAGE } = opts;
  const { join, person } = personOf();
  // By the last character (but trailing spaces on MySQL, which tells people and cartIds apart without them): one
  // person, one part.
  const bucket = (x: Sql) => (part.of === 1 ? raw("0") : sql`(${dialectOf(db).lastCharCode(x)} % ${part.of})`);
  const [ofPerson, ofCart] = [bucket(person), bucket(raw("e.cart_id"))];
  const typed = types ? sql` AND e.event_type IN (${eventTypeList(types)})` : raw("");
  const read = (range: Sql, limit: number | null) =>
    queryRows<Record<string, unknown>>(
      db,
      sql`
    SELECT ${dayOf(db, "e.occurred_at")} AS day, e.id, e.event_type AS t, e.occurred_at AS at, e.cart_id, ${person} AS
    person,
      CASE WHEN e.flags IS NULL THEN 0 ELSE 1 END AS flagged, e.campaign, e.source, e.medium, ${ofPerson} AS
        person_part, ${ofCart} AS cart_part
    FROM events e ${join} WHERE e.appspace_id = ${appspaceId}${typed} AND ${range}
      ${part.of === 1 ? raw("") : sql`AND (${ofPerson} = ${part.index} OR ${ofCart} = ${part.index})`}
    ORDER BY e.occurred_at, e.id${limit === null ? raw("") : sql` LIMIT ${limit}`}`,
    );
  for (const day of days) {
    const { from, to } = periodOf(day, day);
    let lower = sql`e.occurred_at >= ${from}`;
    for (;;) {
      const page = (await read(sql`${lower} AND e.occurred_at < ${to}`, pageSize)).map(eventOf);
      if (page.length === 0) break;
      let events = page;
      if (page.length === pageSize) {
        // The page's last instant may go on past it: it is left to the next page, or read whole if it fills this one.
        const last = page[page.length - 1].at;
        events = page.filter(e => e.at !== last);
        if (events.length === 0)
          events = (await read(sql`e.occurred_at = ${dbTime(new Date(last))}`, null)).map(eventOf);
      }
      visit(await withLines(db, appspaceId, events));
      if (page.length < pageSize) break;
      lower = sql`e.occurred_at > ${dbTime(new Date(events[events.length - 1].at))}`;
    }
  }

  function eventOf(r: Record<string, unknown>): DayEvent {
    return {
      day: r.day as string,
      id: toNumber(r.id),
      type: r.t as string,
      at: fromDbTime(r.at as string | Date).getTime(),
      cartId: (r.cart_id as string | null) ?? null,
      person: (r.person as string | null) ?? null,
      flagged: toNumber(r.flagged) === 1,
      campaign: (r.campaign as string | null) ?? null,
      source: (r.source as string | null) ?? null,
      medium: (r.medium as string | null) ?? null,
      lines: [],
      ofPerson: r.person_part !== null && toNumber(r.person_part) === part.index,
      ofCart: r.cart_part !== null && toNumber(r.cart_part) === part.index,
    };
  }
}

/** The page with the lines of its add-to-cart and remove-from-cart events, in order. */
async function withLines(db: Db, appspaceId: number, page: DayEvent[]): Promise<DayEvent[]> {
  const carts = page.filter(e => e.type === "ADD_TO_CART" || e.type === "REMOVE_FROM_CART");
  if (carts.length > 0) {
    const byId = new Map(carts.map(e => [e.id, e]));
    const lines = await queryRows(
      db,
      sql`SELECT event_row_id, line, item_id, quantity, price FROM event_items
      WHERE appspace_id = ${appspaceId} AND event_row_id IN (${inList(carts.map(e => e.id))}) ORDER BY event_row_id,
      line`,
    );
    for (const l of lines) {
      const price = l.price == null ? null : toNumber(l.price);
      byId
        .get(toNumber(l.event_row_id))!
        .lines.push({ line: toNumber(l.line), itemId: l.item_id as string, quantity: toNumber(l.quantity), price });
    }
  }
  return page.sort((a, b) => a.at - b.at || purchaseLast(a) - purchaseLast(b) || a.id - b.id);
}
