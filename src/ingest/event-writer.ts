import { EntityManager } from "typeorm";
import { ProductDescriptions, upsertProducts } from "../catalog/product.writer";
import { inList, queryRows, sql } from "../db/query";
import { dbTime, insertChunked, insertIgnoring, multiRowInsert, Row, Writes } from "../db/sql";
import { admitLinks, LinkRequest } from "../identity/links";
import { linkPersons } from "../identity/persons";
import { markChangedDays, markPeopleDays } from "../rollups/marks";
import { EVENT_COLUMNS, ITEM_COLUMNS } from "../events/columns";
import { EventType } from "../events/event-type";
import { claimOrders, Pending, releaseOrders, Restated, restateRefunds } from "./orders";
import { NormalizedEvent } from "./validate";

export interface WriteOutcome {
  /** The events stored; the others were duplicates. */
  stored: NormalizedEvent[];
  /** Refunds stored earlier whose flags changed, as a purchase of their order arrived. */
  restated: Restated[];
  /** Stored events whose identity link was refused (admitLinks). */
  conflicts: NormalizedEvent[];
}


/**
 * Stores a batch of valid events in the caller's transaction: one multi-row INSERT
 * per table. `ids` are pre-allocated row ids, one per event. Duplicates (an eventId
 * already stored, a PURCHASE of an order already stored) are dropped by unique keys
 * in the database, so concurrent requests cannot both store one (claimOrders).
 * The statements whose results it does not read (rollup marks, items, properties,
 * then the catalog) are left in `writes`, for the caller to send in one round trip.
 */
export async function writeEvents(em: EntityManager, appspaceId: number, events: NormalizedEvent[], ids: number[], writes: Writes): Promise<WriteOutcome> {
  const unique = dropRepeatedEventIds(events.map((e, i) => ({ e, id: ids[i] })));
  const { kept: candidates, made } = await claimOrders(em, appspaceId, unique);
  if (candidates.length === 0) return { stored: [], restated: [], conflicts: [] };

  const money = (a: { base: number; original: number } | null, key: "base" | "original") => (a ? a[key] : null);
  // In eventId order: concurrent inserts of the same eventIds lock them in one order.
  const eventRows: Row[] = [...candidates].sort(byEventId).map(({ e, id }) => [
    id, appspaceId, e.eventId, e.eventType, dbTime(e.occurredAt), dbTime(e.receivedAt), e.transactionId, e.userId, e.anonymousId,
    e.sessionId, e.cartId, e.couponCode, money(e.revenue, "base"), money(e.discount, "base"), money(e.shipping, "base"),
    money(e.tax, "base"), e.currency, money(e.revenue, "original"), money(e.discount, "original"), money(e.shipping, "original"),
    money(e.tax, "original"), e.fxRate, e.fxRateDate, e.channel.campaign, e.channel.source, e.channel.medium,
    e.deviceType, e.platform, e.browser, e.country, e.city, e.locale, e.pageUrl, e.referrer, e.userAgent, e.ipAnon, e.flags,
  ]);
  await insertChunked(em, r => insertIgnoring(em, "events", EVENT_COLUMNS, r), EVENT_COLUMNS.length, eventRows);

  // Only an eventId can make the insert skip a row: read back which of those landed.
  let stored = candidates;
  let retried: Pending[] = [];
  const withEventId = candidates.filter(c => c.e.eventId !== null).map(c => c.id);
  if (withEventId.length) {
    const found = await queryRows<{ id: unknown }>(em, sql`SELECT id FROM events WHERE appspace_id = ${appspaceId} AND id IN (${inList(withEventId)})`);
    const landed = new Set(found.map(r => Number(r.id)));
    stored = candidates.filter(c => c.e.eventId === null || landed.has(c.id));
    // A PURCHASE that took its order but was then dropped as a repeated eventId gives the order back,
    // and the other purchases of that order in the batch get their turn (below).
    const lost = candidates.filter(c => c.e.eventId !== null && !landed.has(c.id) && c.e.eventType === EventType.PURCHASE);
    await releaseOrders(em, appspaceId, lost);
    const lostOrders = new Set(lost.map(c => c.e.transactionId));
    const tried = new Set(candidates);
    retried = unique.filter(r => !tried.has(r) && r.e.eventType === EventType.PURCHASE && lostOrders.has(r.e.transactionId));
  }
  const restated = await restateRefunds(em, appspaceId, stored.filter(s => s.e.eventType === EventType.PURCHASE && !made.has(s.e.transactionId!)));

  // The catalog rows, which concurrent batches share, are written last (in `writes`, before the caller's
  // stats): locked from there to the commit, they keep the others waiting for as short a time as possible. Events are
  // locked before products, as the deletion worker locks them. The order index entries the refund-day
  // read locks are held a few statements longer, which only a writer of the same orders waits for.
  await markChangedDays(em, appspaceId, [...stored.map(({ e }) => ({
    type: e.eventType, day: e.occurredAt.toISOString().slice(0, 10), transactionId: e.transactionId,
    tagged: e.channel.campaign !== null || e.channel.source !== null || e.channel.medium !== null,
  })), ...restated], writes);
  const conflicts = await writeDetails(em, appspaceId, stored, writes);
  if (retried.length === 0) return { stored: stored.map(s => s.e), restated, conflicts };
  const more = await writeEvents(em, appspaceId, retried.map(r => r.e), retried.map(r => r.id), writes);
  return { stored: [...stored.map(s => s.e), ...more.stored], restated: [...restated, ...more.restated], conflicts: [...conflicts, ...more.conflicts] };
}

/** Events with an eventId in its order, then those without (which no other transaction can hold). */
const byEventId = (a: Pending, b: Pending) => {
  if (a.e.eventId === b.e.eventId) return 0;
  if (a.e.eventId === null || b.e.eventId === null) return a.e.eventId === null ? 1 : -1;
  return a.e.eventId < b.e.eventId ? -1 : 1;
};

/** Within one batch, the first event with a given eventId is the one that counts. */
function dropRepeatedEventIds(rows: Pending[]): Pending[] {
  const seen = new Set<string>();
  return rows.filter(({ e }) => {
    if (e.eventId === null) return true;
    if (seen.has(e.eventId)) return false;
    seen.add(e.eventId);
    return true;
  });
}

/** Items, properties, identity links and the product catalog of the stored events (items, properties and catalog left in `writes`). */
async function writeDetails(em: EntityManager, appspaceId: number, stored: Pending[], writes: Writes): Promise<NormalizedEvent[]> {
  const items: Row[] = [];
  const props: Row[] = [];
  const products = new ProductDescriptions();

  for (const { e, id } of stored) {
    e.items.forEach((it, line) => {
      items.push([
        id, line, appspaceId, it.itemId, it.itemName, it.itemCategory, it.itemBrand, it.itemVariant, it.itemGroupId,
        it.itemListName, it.itemListId, it.quantity, it.price?.base ?? null, it.discount?.base ?? null, it.currency,
        it.price?.original ?? null, it.discount?.original ?? null, it.fxRate, it.couponCode, it.merchantId, it.itemImageUrl,
      ]);
      // In PRODUCT_FIELDS order; within a batch by the catalog's rule, as the upsert applies it to stored rows.
      const fields = [it.itemName, it.itemCategory, it.itemBrand, it.itemVariant, it.itemGroupId, it.itemImageUrl];
      products.add(it.itemId, { at: e.occurredAt, fields });
    });
    for (const [key, value] of e.properties) props.push([id, key, appspaceId, value]);
  }

  writes.addRows(r => multiRowInsert("event_items", ITEM_COLUMNS, r), ITEM_COLUMNS.length, items);
  const propColumns = ["event_row_id", "prop_key", "appspace_id", "prop_value"];
  writes.addRows(r => multiRowInsert("event_properties", propColumns, r), propColumns.length, props);
  const refused = await writeLinks(em, appspaceId, stored.map(s => s.e), writes);

  writes.addRows(r => upsertProducts(em, r), 9, products.rows(appspaceId));
  return refused;
}

/**
 * The identity links the events ask for that admitLinks lets through, with the people they change; returns the
 * events refused a link. Each link is written once, with the time of its earliest event.
 */
async function writeLinks(em: EntityManager, appspaceId: number, events: NormalizedEvent[], writes: Writes): Promise<NormalizedEvent[]> {
  const requests: LinkRequest<NormalizedEvent>[] = events.flatMap(e => (e.userId === null ? [] : [
    ...(e.anonymousId !== null && e.anonymousId !== e.userId ? [{ identifier: e.anonymousId, kind: "anonymous" as const }] : []),
    ...e.aliases.map(alias => ({ identifier: alias, kind: "alias" as const })),
  ].map(l => ({ ...l, userId: e.userId!, trusted: e.linksUserIds, event: e }))));
  if (requests.length === 0) return [];
  const { admitted, refused } = await admitLinks(em, appspaceId, requests, events.flatMap(e => (e.userId === null ? [] : [e.userId])));

  const links = new Map<string, Row>();
  for (const { identifier, userId, kind, event } of admitted) {
    const key = `${identifier}\u0000${userId}`;
    const prev = links.get(key);
    if (!prev || (prev[4] as string) > dbTime(event.occurredAt)) links.set(key, [appspaceId, identifier, userId, kind, dbTime(event.occurredAt)]);
  }
  const linkColumns = ["appspace_id", "identifier", "user_id", "kind", "first_seen_at"];
  const linkRows = [...links.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row);
  if (linkRows.length) await insertChunked(em, r => insertIgnoring(em, "identity_links", linkColumns, r), linkColumns.length, linkRows);
  await markPeopleDays(em, appspaceId, await linkPersons(em, appspaceId, linkRows.map(r => [r[1] as string, r[2] as string] as const)), writes);
  return [...refused];
}

