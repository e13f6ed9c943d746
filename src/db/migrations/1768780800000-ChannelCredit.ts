import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Purchases without a channel are now credited to their person's latest event with one in the 24 hours before
 * (src/reports/sales/sources.ts, creditedPurchases), and a channel's conversion counts purchases so credited: the days
 * whose sales and reach were rolled up with the purchases' own channels are marked stale, and read raw until the
 * refresher has computed them again.
 */
export class ChannelCredit1768780800000 implements MigrationInterface {
  name = "ChannelCredit1768780800000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`INSERT INTO rollup_dirty (appspace_id, day)
      SELECT DISTINCT appspace_id, day FROM rollup_sales UNION SELECT DISTINCT appspace_id, day FROM rollup_reach_sets`);
  }

  async down(): Promise<void> {
    // Nothing to undo: the marks are consumed by the refresher, which computes the days as the code running it says.
  }
}
