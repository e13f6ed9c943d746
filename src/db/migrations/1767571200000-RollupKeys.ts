import { MigrationInterface, QueryRunner, TableIndex } from "typeorm";

/**
 * rollup_products keyed by (appspace, day, flagged, item): one row per item and
 * day, stored in that order (InnoDB clusters by the primary key), so a range of
 * days is read in one sweep rather than a row lookup per entry of the day index.
 */
export class RollupKeys1767571200000 implements MigrationInterface {
  name = "RollupKeys1767571200000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.dropIndex("rollup_products", "ix_rollup_products_day");
    await qr.createPrimaryKey("rollup_products", ["appspace_id", "day", "flagged", "item_id"], "pk_rollup_products");
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropPrimaryKey("rollup_products", "pk_rollup_products");
    await qr.createIndex("rollup_products", new TableIndex({ name: "ix_rollup_products_day", columnNames: ["appspace_id", "day"] }));
  }
}
