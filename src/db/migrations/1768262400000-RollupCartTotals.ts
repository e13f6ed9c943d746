import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions, TableIndex } from "typeorm";

/**
 * Cart abandonment from per-day totals (src/reports/carts/cart-days.ts, cartCounts):
 * - rollup_cart_totals: per day and variant (with_flagged), the outcomes of the day's carts taken
 *   alone, and the day's people and cartIds as sets of 24-bit hashes (every one; those a later day goes
 *   on from; the people of carts a later purchase without a cartId would complete; the people buying
 *   without a cartId), from which a range finds the few carts whose outcome its other days change;
 * - rollup_carts: each row's key hash (on MySQL first in its primary key, so that the rows of a key lie
 *   together) and, per variant, the hash of its cart's person, indexed, so that a report reads those rows only.
 * The rows of rollup_carts go and their days are marked stale: the refresher computes them again.
 */
const PERSON_INDEXES = [["ix_rollup_carts_person", "person_hash"], ["ix_rollup_carts_person_all", "person_hash_all"]] as const;

/**
 * A report reads the rows of a key: on MySQL they lie together, keyed by hash first (InnoDB stores rows in key order),
 * and the refresher finds a day's through an index; SQLite's rows stay in rowid order, found by hash through an index.
 */
async function keyByHash(qr: QueryRunner, mysql: boolean): Promise<void> {
  if (!mysql) return qr.createIndex("rollup_carts", new TableIndex({ name: "ix_rollup_carts_key", columnNames: ["appspace_id", "key_hash", "day"] }));
  await qr.query("ALTER TABLE rollup_carts DROP PRIMARY KEY, ADD PRIMARY KEY (appspace_id, key_hash, day, kind, cart_key)");
  await qr.createIndex("rollup_carts", new TableIndex({ name: "ix_rollup_carts_day", columnNames: ["appspace_id", "day"] }));
}

async function unkey(qr: QueryRunner, mysql: boolean): Promise<void> {
  if (!mysql) return qr.dropIndex("rollup_carts", "ix_rollup_carts_key");
  await qr.dropIndex("rollup_carts", "ix_rollup_carts_day");
  await qr.query("ALTER TABLE rollup_carts DROP PRIMARY KEY, ADD PRIMARY KEY (appspace_id, day, kind, cart_key)");
}

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
    await keyByHash(qr, mysql);
    for (const [name, column] of PERSON_INDEXES) await qr.createIndex("rollup_carts", new TableIndex({ name, columnNames: ["appspace_id", column, "day"] }));
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
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_carts");
    await qr.query("DELETE FROM rollup_carts");
    for (const [name] of PERSON_INDEXES) await qr.dropIndex("rollup_carts", name);
    await unkey(qr, qr.connection.options.type === "mysql");
    await qr.dropColumns("rollup_carts", ["key_hash", "person_hash", "person_hash_all"]);
  }
}
