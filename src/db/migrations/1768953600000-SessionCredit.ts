import { MigrationInterface, QueryRunner, TableIndex } from "typeorm";

/**
 * A purchase without a channel is now credited also through its session: to the latest event with a channel of its
 * person or of its sessionId in the 24 hours before (src/reports/sales/sources.ts, creditTouch), looked up through the new
 * index on (appspace_id, session_id, occurred_at). The days of purchases that could be credited so (no channel of
 * their own, a sessionId) are marked stale, and read raw until the refresher has rolled them up again.
 */
export class SessionCredit1768953600000 implements MigrationInterface {
  name = "SessionCredit1768953600000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.createIndex("events", new TableIndex({ name: "ix_events_session", columnNames: ["appspace_id", "session_id", "occurred_at"] }));
    const day = qr.connection.options.type === "mysql" ? "DATE_FORMAT(occurred_at, '%Y-%m-%d')" : "substr(occurred_at, 1, 10)";
    await qr.query(`INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, ${day} FROM events
      WHERE event_type = 'PURCHASE' AND session_id IS NOT NULL AND campaign IS NULL AND source IS NULL AND medium IS NULL`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex("events", "ix_events_session");
  }
}
