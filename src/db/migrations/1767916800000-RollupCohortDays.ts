import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from "typeorm";

/**
 * rollup_cohort_days: rollup_buyers summed per day and cohort (people: rows holding
 * their person's first purchase; amount: what they spent net of refunds), by
 * variant (with_flagged). Cohorts sum these rows, a few per day whatever the number
 * of buyers, instead of every buyer's. The refresher recomputes a day's rows with
 * it, and those of the days whose buyer rows changed cohort. Computed here for the
 * buyer rows there are.
 */
export class RollupCohortDays1767916800000 implements MigrationInterface {
  name = "RollupCohortDays1767916800000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const str = (name: string, length: number): TableColumnOptions => ({
      name, type: "varchar", length: String(length), isPrimary: true, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}),
    });
    await qr.createTable(new Table({
      name: "rollup_cohort_days",
      columns: [
        { name: "appspace_id", type: "integer", isPrimary: true }, { name: "with_flagged", type: "integer", isPrimary: true },
        str("day", 10), str("cohort", 7), { name: "people", type: "integer", default: 0 }, { name: "amount", type: "bigint", default: 0 },
      ],
    }));
    await qr.query(`INSERT INTO rollup_cohort_days (appspace_id, with_flagged, day, cohort, people, amount)
      SELECT appspace_id, with_flagged, day, cohort, SUM(is_first), SUM(amount) FROM rollup_buyers WHERE cohort IS NOT NULL
      GROUP BY appspace_id, with_flagged, day, cohort`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("rollup_cohort_days");
  }
}
