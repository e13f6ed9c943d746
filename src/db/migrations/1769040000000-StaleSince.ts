import { MigrationInterface, QueryRunner, TableColumn } from "typeorm";

/**
 * When each stale-day mark was written (rollup_dirty.marked_at, filled by the database), so that the refresher's
 * freshness can be watched: rollup_oldest_stale_seconds is the age of the oldest mark waiting (src/ops/server-metrics.ts).
 * Marks there already take the migration's time. On MySQL a TIMESTAMP: a moment (UTC inside), whatever the session's
 * time zone and its daylight saving changes.
 */
export class StaleSince1769040000000 implements MigrationInterface {
  name = "StaleSince1769040000000";

  async up(qr: QueryRunner): Promise<void> {
    const type = qr.connection.options.type === "mysql" ? "timestamp" : "datetime";
    await qr.addColumn("rollup_dirty", new TableColumn({ name: "marked_at", type, default: "CURRENT_TIMESTAMP" }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn("rollup_dirty", "marked_at");
  }
}
