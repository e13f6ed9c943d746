import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from "typeorm";

/**
 * Attribution credits per day (src/attribution/attribution.service.ts):
 * - rollup_attribution: per day, variant (with_flagged), model and window, what the day's
 *   purchases credit each channel (revenue in minor units, orders in thousandths); the row
 *   of no channel (campaign, source and medium null) holds the unattributed purchases;
 * - rollup_attribution_dirty: an append-only log of days whose credits are to be computed
 *   again, since the touches they read (of up to 90 days before) changed: the refresher
 *   adds the days after each day it recomputes, and computes the days it names.
 * Every day with purchases is marked here, so the refresher computes them.
 */
export class RollupAttribution1768176000000 implements MigrationInterface {
  name = "RollupAttribution1768176000000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const str = (name: string, length: number, isPrimary = false): TableColumnOptions => ({
      name, type: "varchar", length: String(length), isPrimary, isNullable: !isPrimary, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}),
    });
    const int = (name: string, isPrimary = false, type = "integer"): TableColumnOptions => ({ name, type, default: 0, isPrimary });
    await qr.createTable(new Table({
      name: "rollup_attribution",
      columns: [
        int("appspace_id", true), int("with_flagged", true), str("day", 10, true), int("seq", true),
        str("model", 16), int("window_days"), str("campaign", 255), str("source", 255), str("medium", 255),
        int("revenue", false, "bigint"), int("orders", false, "bigint"),
      ],
    }));
    await qr.createTable(new Table({
      name: "rollup_attribution_dirty",
      columns: [{ name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" }, int("appspace_id"), str("day", 10)],
      indices: [new TableIndex({ name: "ix_rollup_attribution_dirty_day", columnNames: ["appspace_id", "day"] })],
    }));
    await qr.query("INSERT INTO rollup_attribution_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_sales");
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("rollup_attribution_dirty");
    await qr.dropTable("rollup_attribution");
  }
}
