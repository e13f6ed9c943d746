import DataLoader from "dataloader";
import { DataSource, In } from "typeorm";
import { Product } from "./product.entity";

/** Catalog rows of one appspace by itemId, batched per request; results in key order. */
export function createProductLoader(db: DataSource, appspaceId: number) {
  return new DataLoader<string, Product | null>(async itemIds => {
    const rows = await db.getRepository(Product).findBy({ appspaceId, itemId: In([...itemIds]) });
    const byId = new Map(rows.map(p => [p.itemId, p]));
    return itemIds.map(id => byId.get(id) ?? null);
  });
}
