import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from "typeorm";

/**
 * Seven-day rollups: for every day, the sums of purchases (each grain) and of
 * product sales over that day and the six after it, keyed like the daily tables
 * with `day` the first of the seven. A report over a range reads one row set per
 * seven clean days instead of seven, so it reads about as many rows for 30 days
 * as for 7. Every day with rollups is marked stale, so the refresher computes them;
 * deploy it with the servers of earlier versions stopped (their refresher would
 * take the marks without computing spans).
 */
export class RollupWeeks1767657600000 implements MigrationInterface {
  name = "RollupWeeks1767657600000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const str = (name: string, length: number, isNullable = true, isPrimary = false): TableColumnOptions => ({
      name, type: "varchar", length: String(length), isNullable, isPrimary, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}),
    });
    const big = (name: string): TableColumnOptions => ({ name, type: "bigint", default: 0 });
    const key = (...after: TableColumnOptions[]) => [
      { name: "appspace_id", type: "integer", isPrimary: true }, ...after,
      str("day", 10, false, true), { name: "flagged", type: "integer", default: 0, isPrimary: true },
    ];
    await qr.createTable(new Table({
      name: "rollup_sales_7d",
      columns: [
        ...key(str("grain", 16, false, true)), { name: "seq", type: "integer", default: 0, isPrimary: true },
        str("campaign", 255), str("source", 255), str("medium", 255), str("coupon_code", 128),
        str("device_type", 32), str("platform", 32), str("country", 2),
        big("orders"), big("revenue"), big("discount"), big("items"),
      ],
      // The refresher replaces a day's spans of every grain at once.
      indices: [new TableIndex({ name: "ix_rollup_sales_7d_day", columnNames: ["appspace_id", "day"] })],
    }));
    await qr.createTable(new Table({
      name: "rollup_products_7d",
      columns: [...key(), str("item_id", 128, false, true), big("revenue"), big("quantity"), big("orders")],
    }));
    await qr.query(`INSERT INTO rollup_dirty (appspace_id, day)
      SELECT appspace_id, day FROM rollup_sales UNION SELECT appspace_id, day FROM rollup_products`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("rollup_products_7d");
    await qr.dropTable("rollup_sales_7d");
  }
}
