import { inList, queryRows, sql } from "../db/query";
import DataLoader from "dataloader";
import { DataSource } from "typeorm";
import { Appspace } from "../appspaces/appspace.entity";
import { fromDbTime, toNumber } from "../db/sql";
import { BadUserInputError } from "../errors";
import { EventType } from "../events/event-type";
import { fromMinor } from "../money";
import { JourneyItem, UserJourney } from "./identity.types";
import { identifiersOf } from "./persons";

export const JOURNEY_MAX = 5000;


/** The newest `limit` events of the person userId belongs to, across every linked identifier, oldest first. */
export async function userJourney(db: DataSource, appspace: Appspace, userId: string, limit: number): Promise<UserJourney> {
  if (userId.length === 0 || userId.length > 128) throw new BadUserInputError("userId must be 1 to 128 characters", { field: "userId" });
  if (!Number.isInteger(limit) || limit < 1 || limit > JOURNEY_MAX) {
    throw new BadUserInputError(`limit must be between 1 and ${JOURNEY_MAX}; got ${limit}`, { field: "limit" });
  }
  const { identifiers } = await identifiersOf(db, appspace.id, userId);
  const list = inList(identifiers);
  const rows = await queryRows(db, sql`SELECT id, event_type, occurred_at, transaction_id, revenue FROM events
    WHERE appspace_id = ${appspace.id} AND (user_id IN (${list}) OR anonymous_id IN (${list}))
    ORDER BY occurred_at DESC, id DESC LIMIT ${limit}`);
  return {
    userId,
    identifiers,
    events: rows.reverse().map(r => ({
      rowId: toNumber(r.id),
      eventType: r.event_type as EventType,
      timestamp: fromDbTime(r.occurred_at as string),
      transactionId: (r.transaction_id as string | null) ?? null,
      revenue: r.revenue === null ? null : fromMinor(toNumber(r.revenue), appspace.baseCurrency),
    })),
  };
}

/** The items of events by row id, in line order, batched per request; results in key order. */
export function createEventItemsLoader(db: DataSource, appspace: Appspace | null) {
  return new DataLoader<number, JourneyItem[]>(async rowIds => {
    if (!appspace) return rowIds.map(() => []);
    const rows = await queryRows(db, sql`SELECT event_row_id, item_id, item_name, price, quantity FROM event_items
      WHERE appspace_id = ${appspace.id} AND event_row_id IN (${inList(rowIds)}) ORDER BY event_row_id, line`);
    const byEvent = new Map<number, JourneyItem[]>();
    for (const r of rows) {
      const id = toNumber(r.event_row_id);
      const items = byEvent.get(id) ?? [];
      items.push({
        itemId: r.item_id as string,
        itemName: (r.item_name as string | null) ?? null,
        price: r.price === null ? null : fromMinor(toNumber(r.price), appspace.baseCurrency),
        quantity: toNumber(r.quantity),
      });
      byEvent.set(id, items);
    }
    return rowIds.map(id => byEvent.get(id) ?? []);
  }, { maxBatchSize: JOURNEY_MAX });
}
