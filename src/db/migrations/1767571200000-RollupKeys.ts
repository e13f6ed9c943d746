import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from "typeorm";

/**
 * Rollups stored in the order reports read them (InnoDB clusters rows by the
 * primary key), so a range of days is read in one sweep rather than a row
 * look-up per entry of a secondary index:
 * - rollup_products by (appspace, day, flagged, item): one row per item and day;
 * - rollup_sales by (appspace, grain, day, flagged, seq), seq numbering a day's rows of a grain.
 * Both are rebuilt: their rows are dropped and their days marked stale for the refresher.
 * ix_rollup_sales_grain stays: SQLite orders a primary key's columns as the table does.
 */
export class RollupKeys1767571200000 implements MigrationInterface {
  name = "RollupKeys1767571200000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`INSERT INTO rollup_dirty (appspace_id, day)
      SELECT appspace_id, day FROM rollup_sales UNION SELECT appspace_id, day FROM rollup_products`);
    await qr.query("DELETE FROM rollup_sales");
    await qr.query("DELETE FROM rollup_products");
    await qr.dropIndex("rollup_products", "ix_rollup_products_day");
    await qr.createPrimaryKey("rollup_products", ["appspace_id", "day", "flagged", "item_id"], "pk_rollup_products");
    await qr.addColumn("rollup_sales", new TableColumn({ name: "seq", type: "integer", default: 0 }));
    await qr.createPrimaryKey("rollup_sales", ["appspace_id", "grain", "day", "flagged", "seq"], "pk_rollup_sales");
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropPrimaryKey("rollup_sales", "pk_rollup_sales");
    await qr.dropColumn("rollup_sales", "seq");
    await qr.dropPrimaryKey("rollup_products", "pk_rollup_products");
    await qr.createIndex("rollup_products", new TableIndex({ name: "ix_rollup_products_day", columnNames: ["appspace_id", "day"] }));
  }
}
