import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from "typeorm";

/**
 * Daily rollups of purchases (at several grains: no dimension, one, the channel,
 * every order-level one), refunds and product sales, per appspace and UTC day, flagged events apart. `rollup_dirty`
 * is an append-only log of days whose rollups are stale: ingest and deletion add
 * to it in their own transaction, the refresher recomputes those days and removes
 * the entries it read. Reports read a day from rollups only while no entry names it.
 */
export class Rollups1767484800000 implements MigrationInterface {
  name = "Rollups1767484800000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const str = (name: string, length: number, isNullable = true): TableColumnOptions => ({
      name, type: "varchar", length: String(length), isNullable, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}),
    });
    const big = (name: string): TableColumnOptions => ({ name, type: "bigint", default: 0 });
    const key = [{ name: "appspace_id", type: "integer" }, str("day", 10, false)];
    const byDay = (table: string) => [new TableIndex({ name: `ix_${table}_day`, columnNames: ["appspace_id", "day"] })];

    await qr.createTable(new Table({
      name: "rollup_dirty",
      columns: [{ name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" }, ...key],
      indices: byDay("rollup_dirty"),
    }));
    await qr.createTable(new Table({
      name: "rollup_sales",
      columns: [
        // Which dimensions the row is grouped by (ROLLUP_GRAINS); the others are null.
        ...key, str("grain", 16, false), { name: "flagged", type: "integer", default: 0 },
        str("campaign", 255), str("source", 255), str("medium", 255), str("coupon_code", 128),
        str("device_type", 32), str("platform", 32), str("country", 2),
        big("orders"), big("revenue"), big("discount"), big("items"),
      ],
      indices: [...byDay("rollup_sales"), new TableIndex({ name: "ix_rollup_sales_grain", columnNames: ["appspace_id", "grain", "day"] })],
    }));
    await qr.createTable(new Table({
      name: "rollup_refunds",
      columns: [...key, { name: "flagged", type: "integer", default: 0 }, big("refunds"), big("amount")],
      indices: byDay("rollup_refunds"),
    }));
    await qr.createTable(new Table({
      name: "rollup_products",
      columns: [...key, { name: "flagged", type: "integer", default: 0 }, str("item_id", 128, false), big("revenue"), big("quantity"), big("orders")],
      indices: byDay("rollup_products"),
    }));
    // Every day that already has events is stale until the refresher has seen it.
    const day = mysql ? "DATE_FORMAT(occurred_at, '%Y-%m-%d')" : "substr(occurred_at, 1, 10)";
    await qr.query(`INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, ${day} FROM events`);
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const table of ["rollup_products", "rollup_refunds", "rollup_sales", "rollup_dirty"]) await qr.dropTable(table);
  }
}
