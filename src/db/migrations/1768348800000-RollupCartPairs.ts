import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from "typeorm";

/**
 * rollup_cart_pairs (src/rollups/cart-pairs.ts): per variant and pair of days (day_from < day_to), what carts with rows
 * on both change in a range that holds the two, over what each day's carts count taken alone; a range of clean days sums
 * its days' totals and its pairs. The refresher keeps it in line with rollup_carts, from an empty table: the rows of
 * rollup_carts and rollup_cart_totals go and their days are marked stale, so that it computes them again.
 */
export class RollupCartPairs1768348800000 implements MigrationInterface {
  name = "RollupCartPairs1768348800000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const int = (name: string, isPrimary = false, type = "integer"): TableColumnOptions => ({ name, type, default: 0, isPrimary });
    const day = (name: string): TableColumnOptions => ({ name, type: "varchar", length: "10", isPrimary: true, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}) });
    await qr.createTable(new Table({
      name: "rollup_cart_pairs",
      columns: [
        int("appspace_id", true), int("with_flagged", true), day("day_from"), day("day_to"),
        int("completed", false, "bigint"), int("abandoned", false, "bigint"), int("abandoned_value", false, "bigint"),
      ],
    }));
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_carts");
    await qr.query("DELETE FROM rollup_carts");
    await qr.query("DELETE FROM rollup_cart_totals");
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("rollup_cart_pairs");
  }
}
