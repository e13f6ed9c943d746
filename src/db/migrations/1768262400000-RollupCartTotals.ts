import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions, TableIndex } from "typeorm";

/**
 * Cart abandonment from per-day totals (src/reports/cart-days.ts, cartCounts):
 * - rollup_cart_totals: per day and variant (with_flagged), the outcomes of the day's carts taken
 *   alone, and the day's people and cartIds as sets of 24-bit hashes (every one; those a later day goes
 *   on from; the people of carts a later purchase without a cartId would complete; the people buying
 *   without a cartId), from which a range finds the few carts whose outcome its other days change;
 * - rollup_carts: each row's key hash and, per variant, the hash of its cart's person, indexed, so that
 *   a report reads those rows only.
 * The rows of rollup_carts go and their days are marked stale: the refresher computes them again.
 */
const INDEXES = [["ix_rollup_carts_key", "key_hash"], ["ix_rollup_carts_person", "person_hash"], ["ix_rollup_carts_person_all", "person_hash_all"]] as const;

export class RollupCartTotals1768262400000 implements MigrationInterface {
  name = "RollupCartTotals1768262400000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const int = (name: string, isPrimary = false, type = "integer"): TableColumnOptions => ({ name, type, default: 0, isPrimary });
    // A set of a busy day may pass MySQL's BLOB (64 KB).
    const set = (name: string): TableColumnOptions => ({ name, type: mysql ? "mediumblob" : "blob" });
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_carts");
    await qr.query("DELETE FROM rollup_carts");
    await qr.addColumns("rollup_carts", [
      new TableColumn({ name: "key_hash", type: "bigint", default: 0 }),
      new TableColumn({ name: "person_hash", type: "bigint", isNullable: true }),
      new TableColumn({ name: "person_hash_all", type: "bigint", isNullable: true }),
    ]);
    for (const [name, column] of INDEXES) await qr.createIndex("rollup_carts", new TableIndex({ name, columnNames: ["appspace_id", column, "day"] }));
    await qr.createTable(new Table({
      name: "rollup_cart_totals",
      columns: [
        int("appspace_id", true), { name: "day", type: "varchar", length: "10", isPrimary: true, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}) },
        int("with_flagged", true),
        int("completed", false, "bigint"), int("abandoned", false, "bigint"), int("abandoned_value", false, "bigint"),
        set("entities"), set("dangling"), set("cart_people"), set("plain_buyers"),
      ],
    }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("rollup_cart_totals");
    for (const [name] of INDEXES) await qr.dropIndex("rollup_carts", name);
    await qr.dropColumns("rollup_carts", ["key_hash", "person_hash", "person_hash_all"]);
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_carts");
    await qr.query("DELETE FROM rollup_carts");
  }
}
