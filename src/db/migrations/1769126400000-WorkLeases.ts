import { MigrationInterface, QueryRunner, Table } from "typeorm";

/**
 * work_leases: a row per unit of background work claimed by a server process (src/db/leases.ts), with its holder and
 * the time its claim lapses (UTC, by the database's clock), so that several processes share the background work and
 * never do the same unit at once.
 */
export class WorkLeases1769126400000 implements MigrationInterface {
  name = "WorkLeases1769126400000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.createTable(
      new Table({
        name: "work_leases",
        columns: [
          { name: "unit", type: "varchar", length: "100", isPrimary: true },
          { name: "holder", type: "varchar", length: "100" },
          { name: "expires_at", type: "datetime", precision: 3 },
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("work_leases");
  }
}
