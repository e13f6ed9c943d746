import { describe as describeProduct, rebuildProducts } from "../src/catalog/product.writer";
import { withTransaction } from "../src/db/sql";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";
import { NOW } from "./helpers/report-fixture";

/*
 * The catalog's one rule (src/catalog/product.writer.ts): the latest description wins field by field, an older one
 * fills gaps. Ingest applies it in a batch and against stored rows; a deletion's rebuild replays the remaining events.
 */

const at = (iso: string) => new Date(iso);

describe("the catalog rule", () => {
  it("a later description overrides what it says and keeps the rest; an earlier one only fills gaps", () => {
    const known = { at: at("2026-03-02T00:00:00Z"), fields: ["Mug", null, "Acme", null, null, null] };
    expect(describeProduct(known, { at: at("2026-03-03T00:00:00Z"), fields: ["Big mug", "kitchen", null, null, null, null] }))
      .toEqual({ at: at("2026-03-03T00:00:00Z"), fields: ["Big mug", "kitchen", "Acme", null, null, null] });
    expect(describeProduct(known, { at: at("2026-03-01T00:00:00Z"), fields: ["Old mug", null, "Other", "red", null, null] }))
      .toEqual({ at: at("2026-03-02T00:00:00Z"), fields: ["Mug", null, "Acme", "red", null, null] });
    expect(describeProduct(undefined, known)).toBe(known);
  });
});

describe.each(dbTargets())("catalog rows on $name", target => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
  });
  afterAll(() => h.close());

  const view = (timestamp: string, item: Record<string, string>) => ({ eventType: "VIEW_ITEM", userId: "u", timestamp, items: [item] });
  const products = (appspaceId: number) =>
    h.db.query("SELECT item_id, name, category, brand, variant, last_seen_at FROM products WHERE appspace_id = ? ORDER BY item_id", [appspaceId]);

  it("ingest (out of time order within a batch and across batches) and a rebuild from the same events agree", async () => {
    const space = await h.appspace({ currency: "EUR" });
    const send = async (events: object[]) =>
      expect((await h.gql(TRACK_EVENTS, { events }, space.publishableKey)).body.data!.trackEvents.errors).toEqual([]);
    await send([
      view("2026-03-02T10:00:00Z", { itemId: "mug", itemName: "Mug", itemBrand: "Acme" }),
      view("2026-03-01T10:00:00Z", { itemId: "mug", itemName: "Old mug", itemVariant: "red", itemCategory: "cups" }),
    ]);
    // An older description, sent later: it fills no field, all are known from newer ones.
    await send([view("2026-02-20T10:00:00Z", { itemId: "mug", itemBrand: "Other", itemCategory: "old-cups" })]);
    await send([
      view("2026-03-03T10:00:00Z", { itemId: "mug", itemName: "Big mug" }),
      view("2026-03-01T09:00:00Z", { itemId: "pen", itemName: "Pen" }),
    ]);
    const ingested = await products(space.appspaceId);
    expect(ingested.map((r: Record<string, unknown>) => [r.item_id, r.name, r.category, r.brand, r.variant])).toEqual([
      ["mug", "Big mug", "cups", "Acme", "red"],
      ["pen", "Pen", null, null, null],
    ]);
    await withTransaction(h.db, em => rebuildProducts(em, space.appspaceId, ["mug", "pen"]));
    expect(await products(space.appspaceId)).toEqual(ingested);
  });
});
