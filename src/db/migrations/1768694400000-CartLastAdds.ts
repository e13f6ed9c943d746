import { MigrationInterface, QueryRunner, TableColumn } from "typeorm";

/**
 * rollup_carts.last_add / last_add_all: per variant (without and with flagged events), the time (ms) of the last add
 * of the run or cart a row leaves open at the end of its day. A cart report finds with them, on the last day of its
 * range, the carts still open there (added to within the appspace's cartIdleMinutes before the range's end), which it
 * folds over the range instead of counting them abandoned (src/reports/carts/cart-days.ts, cartCounts). The days with rows
 * are marked stale: the refresher computes their rows again, with the new columns.
 */
export class CartLastAdds1768694400000 implements MigrationInterface {
  name = "CartLastAdds1768694400000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.query("INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, day FROM rollup_carts");
    await qr.addColumns("rollup_carts", [
      new TableColumn({ name: "last_add", type: "bigint", isNullable: true }),
      new TableColumn({ name: "last_add_all", type: "bigint", isNullable: true }),
    ]);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumns("rollup_carts", ["last_add", "last_add_all"]);
  }
}
