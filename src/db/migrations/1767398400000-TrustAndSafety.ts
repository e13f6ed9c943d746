import { MigrationInterface, QueryRunner, Table, TableColumn } from "typeorm";

/**
 * Trust and safety: per-appspace settings (fraud thresholds, quotas), the fraud
 * rules an event was flagged by, and daily ingestion outcomes for stats and quotas.
 */
export class TrustAndSafety1767398400000 implements MigrationInterface {
  name = "TrustAndSafety1767398400000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const bin = mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {};
    // JSON of the settings that differ from the defaults (src/appspaces/settings.ts).
    await qr.addColumn("appspaces", new TableColumn({ name: "settings", type: "varchar", length: "4000", isNullable: true }));
    // Comma-separated fraud rules of a flagged event; null for a clean one.
    await qr.addColumn("events", new TableColumn({ name: "flags", type: "varchar", length: "128", isNullable: true, ...bin }));
    await qr.createTable(new Table({
      name: "ingestion_stats",
      columns: [
        { name: "appspace_id", type: "integer", isPrimary: true },
        { name: "day", type: "varchar", length: "10", isPrimary: true, ...bin },
        // stored, flagged, duplicate, blocked or rejected
        { name: "outcome", type: "varchar", length: "16", isPrimary: true, ...bin },
        // "" for the outcome's total; else the fraud rule or the error code
        { name: "code", type: "varchar", length: "32", isPrimary: true, ...bin },
        { name: "n", type: "bigint", default: 0 },
      ],
    }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("ingestion_stats");
    await qr.dropColumn("events", "flags");
    await qr.dropColumn("appspaces", "settings");
  }
}
