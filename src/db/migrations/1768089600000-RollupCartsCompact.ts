import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * rollup_carts holds its summaries as flat JSON arrays (src/reports/carts/cart-days.ts): its rows in the
 * earlier form go, and their days are marked stale, so reports read them raw until the refresher has
 * computed them again.
 */
export class RollupCartsCompact1768089600000 implements MigrationInterface {
  name = "RollupCartsCompact1768089600000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_carts");
    await qr.query("DELETE FROM rollup_carts");
  }

  async down(qr: QueryRunner): Promise<void> {
    await this.up(qr);
  }
}
