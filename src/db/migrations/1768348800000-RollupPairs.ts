import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from "typeorm";

/**
 * Carts and the funnel per pair of days, so that a range of clean days sums its pairs (src/reports/carts/cart-pairs.ts,
 * funnel-pairs.ts):
 * - rollup_cart_pairs: per variant and pair of days (day_from < day_to), what carts with rows on both change in a range
 *   that holds the two, over what each day's carts count taken alone (rollup_cart_totals);
 * - rollup_funnel_people: a person's moves over a day (by their number), per variant;
 * - rollup_funnel_pairs: per variant and pair of days (day_from <= day_to), what people with moves on both add to
 *   each step's count (day_from = day_to: what the day counts alone).
 * The refresher keeps the pairs in line with the rows they follow from, from empty tables: the rows of rollup_carts
 * and rollup_cart_totals go, and the days of those and of rollup_funnel_sets are marked stale, so that it computes them again.
 */
export class RollupPairs1768348800000 implements MigrationInterface {
  name = "RollupPairs1768348800000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const int = (name: string, isPrimary = false, type = "integer"): TableColumnOptions => ({ name, type, default: 0, isPrimary });
    const text = (name: string, length: number, isPrimary = false): TableColumnOptions =>
      ({ name, type: "varchar", length: String(length), isPrimary, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}) });
    const pairs = (name: string, sums: string[]) => new Table({
      name,
      columns: [int("appspace_id", true), int("with_flagged", true), text("day_from", 10, true), text("day_to", 10, true), ...sums.map(s => int(s, false, "bigint"))],
    });
    await qr.createTable(pairs("rollup_cart_pairs", ["completed", "abandoned", "abandoned_value"]));
    await qr.createTable(pairs("rollup_funnel_pairs", ["reached0", "reached1", "reached2", "reached3", "reached4", "reached5"]));
    await qr.createTable(new Table({
      name: "rollup_funnel_people",
      columns: [int("appspace_id", true), int("person", true, "bigint"), text("day", 10, true), text("moves", 6), text("moves_all", 6)],
      indices: [new TableIndex({ name: "ix_rollup_funnel_people_day", columnNames: ["appspace_id", "day"] })],
    }));
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_carts");
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_funnel_sets");
    await qr.query("DELETE FROM rollup_carts");
    await qr.query("DELETE FROM rollup_cart_totals");
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const table of ["rollup_cart_pairs", "rollup_funnel_pairs", "rollup_funnel_people"]) await qr.dropTable(table);
  }
}
