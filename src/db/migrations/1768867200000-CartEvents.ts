import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Carts are now one fold over each person's cart events in time order (src/reports/carts/cart-days.ts): a purchase without a
 * cartId completes its person's most recent open cart only, and an emptied cart is neither completed nor abandoned.
 * rollup_carts rows hold a day's events per person and cartId instead of what the day did to them, so the old rows,
 * their days' totals and the pairs are deleted and their days marked stale: reports read those days raw until the
 * refresher has rolled them up again. Down does the same for the code it goes back to.
 */
export class CartEvents1768867200000 implements MigrationInterface {
  name = "CartEvents1768867200000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_carts");
    for (const table of ["rollup_carts", "rollup_cart_totals", "rollup_cart_pairs"]) await qr.query(`DELETE FROM ${table}`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await this.up(qr);
  }
}
