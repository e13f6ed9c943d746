import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from "typeorm";

/**
 * Each rollup_buyers row carries its person's cohort (the month of their first
 * purchase) and whether it holds that purchase (is_first), kept by the refresher
 * for the people of each day it recomputes; cohorts then sum the rows in one pass
 * instead of finding every person's first purchase. Computed here for the rows there are.
 */
export class RollupCohorts1767830400000 implements MigrationInterface {
  name = "RollupCohorts1767830400000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    await qr.addColumns("rollup_buyers", [
      new TableColumn({ name: "cohort", type: "varchar", length: "7", isNullable: true }),
      new TableColumn({ name: "is_first", type: "integer", default: 0 }),
    ]);
    await qr.createIndex("rollup_buyers", new TableIndex({ name: "ix_rollup_buyers_person", columnNames: ["appspace_id", "with_flagged", "person"] }));
    const firsts = "SELECT appspace_id, with_flagged, person, MIN(first_at) AS first_at FROM rollup_buyers GROUP BY appspace_id, with_flagged, person";
    await qr.query(mysql
      ? `UPDATE rollup_buyers b FORCE INDEX (ix_rollup_buyers_person) JOIN (${firsts}) f ON f.appspace_id = b.appspace_id AND f.with_flagged = b.with_flagged AND f.person = b.person
          SET b.cohort = DATE_FORMAT(f.first_at, '%Y-%m'), b.is_first = CASE WHEN b.first_at = f.first_at THEN 1 ELSE 0 END`
      : `UPDATE rollup_buyers SET (cohort, is_first) = (SELECT substr(f.first_at, 1, 7), CASE WHEN rollup_buyers.first_at = f.first_at THEN 1 ELSE 0 END
          FROM (${firsts}) f WHERE f.appspace_id = rollup_buyers.appspace_id AND f.with_flagged = rollup_buyers.with_flagged AND f.person = rollup_buyers.person)`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex("rollup_buyers", "ix_rollup_buyers_person");
    await qr.dropColumns("rollup_buyers", ["cohort", "is_first"]);
  }
}
