import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * ingestion_stats.outcome widens from 16 to 32 characters for "identity_conflict": stored events whose identity link
 * a publishable key may not make (src/identity/links.ts). SQLite does not enforce a varchar's length.
 */
export class IdentityConflicts1768608000000 implements MigrationInterface {
  name = "IdentityConflicts1768608000000";

  async up(qr: QueryRunner): Promise<void> {
    if (qr.connection.options.type === "mysql") await qr.query("ALTER TABLE ingestion_stats MODIFY outcome VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL");
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query("DELETE FROM ingestion_stats WHERE outcome = 'identity_conflict'");
    if (qr.connection.options.type === "mysql") await qr.query("ALTER TABLE ingestion_stats MODIFY outcome VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL");
  }
}
