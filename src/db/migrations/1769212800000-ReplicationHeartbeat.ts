import { MigrationInterface, QueryRunner, Table } from "typeorm";

/**
 * replication_heartbeat: one row whose time a server with read replicas (DATABASE_READ_URLS) writes on the primary
 * every second; read on a replica, it is the time up to which the replica holds everything (src/db/replicas.ts).
 */
export class ReplicationHeartbeat1769212800000 implements MigrationInterface {
  name = "ReplicationHeartbeat1769212800000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.createTable(
      new Table({
        name: "replication_heartbeat",
        columns: [
          { name: "id", type: "integer", isPrimary: true },
          { name: "beat_at", type: "datetime", precision: 3 },
        ],
      }),
    );
    await qr.query("INSERT INTO replication_heartbeat (id, beat_at) VALUES (1, ?)", [new Date().toISOString().replace("T", " ").replace("Z", "")]);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("replication_heartbeat");
  }
}
