import { EntityManager } from "typeorm";
import { dialectOf } from "../db/dialect";
import { inList, queryRows, raw, sql } from "../db/query";
import { Db, dbTime, fromDbTime, multiRowInsert, Row } from "../db/sql";

/*
 * The catalog (products) is what events say of their items, and one rule decides it: the latest description wins
 * field by field, and an older one only fills the fields the latest leaves empty; last_seen_at is the latest event's
 * time. Ingest applies it to a batch (ProductDescriptions) and against the stored rows (upsertProducts, the same
 * rule in SQL); a deletion re-derives the rows from the events that remain (rebuildProducts).
 */

/** Catalog columns and the event_items columns that describe them. */
export const PRODUCT_FIELDS = [
  ["name", "item_name"],
  ["category", "item_category"],
  ["brand", "item_brand"],
  ["variant", "item_variant"],
  ["group_id", "item_group_id"],
  ["image_url", "item_image_url"],
] as const;

const COLUMNS = ["appspace_id", "item_id", ...PRODUCT_FIELDS.map(([column]) => column), "last_seen_at"];

/** What an event says of an item: when, and its fields in PRODUCT_FIELDS order (null: not said). */
export interface Description {
  at: Date;
  fields: (string | null)[];
}

/** The rule: a description seen after (or with) the known one overrides what it says; an older one fills gaps. */
export function describe(known: Description | undefined, seen: Description): Description {
  if (!known) return seen;
  if (seen.at >= known.at) return { at: seen.at, fields: seen.fields.map((v, n) => v ?? known.fields[n]) };
  return { at: known.at, fields: known.fields.map((v, n) => v ?? seen.fields[n]) };
}

/** Descriptions of items folded by the rule, as catalog rows. */
export class ProductDescriptions {
  private readonly byItem = new Map<string, Description>();

  add(itemId: string, seen: Description): void {
    this.byItem.set(itemId, describe(this.byItem.get(itemId), seen));
  }

  /** Rows of the products table, by item id. */
  rows(appspaceId: number): Row[] {
    return [...this.byItem.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([itemId, d]) => [appspaceId, itemId, ...d.fields, dbTime(d.at)]);
  }
}

/** Inserts catalog rows, or applies them to the stored ones by the rule (the stored row is the known description). */
export function upsertProducts(db: Db, rows: readonly Row[]): [string, unknown[]] {
  const byRule = (stored: string, incoming: string, values: (c: string) => { stored: string; incoming: string }) => {
    const seen = values("last_seen_at");
    return `CASE WHEN ${seen.incoming} >= ${seen.stored} THEN COALESCE(${incoming}, ${stored}) ELSE COALESCE(${stored}, ${incoming}) END`;
  };
  const dialect = dialectOf(db);
  const set = Object.fromEntries([
    ...PRODUCT_FIELDS.map(([column]) => [column, byRule] as const),
    // Last: on MySQL later assignments see the earlier ones, and the fields read the stored last_seen_at.
    ["last_seen_at", (stored: string, incoming: string) => `${dialect.greatest}(${stored}, ${incoming})`] as const,
  ]);
  return multiRowInsert("products", COLUMNS, rows, dialect.onConflict("products", ["appspace_id", "item_id"], set));
}

/**
 * Re-derives the catalog rows of these items from the events that remain (after a deletion), by the same rule:
 * their lines in time order. An item no event mentions any more has no row.
 */
export async function rebuildProducts(
  em: EntityManager,
  appspaceId: number,
  itemIds: readonly string[],
): Promise<void> {
  if (itemIds.length === 0) return;
  const items = inList(itemIds);
  const lines = await queryRows(
    em,
    sql`SELECT i.item_id, e.occurred_at, ${raw(PRODUCT_FIELDS.map(([, c]) => `i.${c}`).join(", "))}
    FROM event_items i JOIN events e ON e.id = i.event_row_id WHERE i.appspace_id = ${appspaceId} AND i.item_id IN (${items})
    ORDER BY e.occurred_at, e.id`,
  );
  const products = new ProductDescriptions();
  for (const line of lines) {
    const fields = PRODUCT_FIELDS.map(([, c]) => (line[c] as string | null) ?? null);
    products.add(line.item_id as string, { at: fromDbTime(line.occurred_at as string), fields });
  }
  await queryRows(em, sql`DELETE FROM products WHERE appspace_id = ${appspaceId} AND item_id IN (${items})`);
  const rows = products.rows(appspaceId);
  if (rows.length > 0) await em.query(...upsertProducts(em, rows));
}
