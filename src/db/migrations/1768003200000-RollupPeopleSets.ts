import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from "typeorm";

/**
 * Sets of people instead of a row per person (src/rollups/people-sets.ts):
 * - rollup_people: an appspace's people numbered (keyed by a hash of the person);
 * - rollup_funnel_sets replaces rollup_funnel: per day, variant (with_flagged) and
 *   move (from_step, to_step), the people whose day, starting while they wait for
 *   from_step, ends waiting for to_step (6: all reached);
 * - rollup_reach_sets replaces rollup_reach: per day, flagged and channel, the
 *   people who met it and those who bought with it.
 * Every day holding events is marked stale, so the refresher computes them.
 */
const columnsOf = (mysql: boolean) => ({
  str: (name: string, length: number, isPrimary = false, isNullable = false): TableColumnOptions => ({
    name, type: "varchar", length: String(length), isNullable, isPrimary, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}),
  }),
  int: (name: string, isPrimary = false): TableColumnOptions => ({ name, type: "integer", default: 0, isPrimary }),
});

/** Every day holding events, marked stale: the refresher computes its rollups. */
const markEveryDay = (qr: QueryRunner, mysql: boolean) =>
  qr.query(`INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, ${mysql ? "DATE_FORMAT(occurred_at, '%Y-%m-%d')" : "substr(occurred_at, 1, 10)"} FROM events`);

export class RollupPeopleSets1768003200000 implements MigrationInterface {
  name = "RollupPeopleSets1768003200000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const { str, int } = columnsOf(mysql);
    // A set of a busy day may pass MySQL's BLOB (64 KB).
    const set = (name: string): TableColumnOptions => ({ name, type: mysql ? "mediumblob" : "blob" });
    await qr.createTable(new Table({
      name: "rollup_people",
      columns: [int("appspace_id", true), { name: "person_hash", type: mysql ? "binary" : "blob", length: mysql ? "16" : undefined, isPrimary: true }, int("ordinal")],
      indices: [new TableIndex({ name: "ux_rollup_people_ordinal", columnNames: ["appspace_id", "ordinal"], isUnique: true })],
    }));
    await qr.createTable(new Table({
      name: "rollup_funnel_sets",
      columns: [int("appspace_id", true), str("day", 10, true), int("with_flagged", true), int("from_step", true), int("to_step", true), set("people")],
    }));
    await qr.createTable(new Table({
      name: "rollup_reach_sets",
      columns: [
        int("appspace_id", true), str("day", 10, true), int("flagged", true), int("seq", true),
        str("campaign", 255, false, true), str("source", 255, false, true), str("medium", 255, false, true), set("people"), set("buyers"),
      ],
    }));
    await qr.dropTable("rollup_funnel");
    await qr.dropTable("rollup_reach");
    await markEveryDay(qr, mysql);
  }

  async down(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const { str, int } = columnsOf(mysql);
    await qr.createTable(new Table({
      name: "rollup_funnel",
      columns: [int("appspace_id", true), str("day", 10, true), str("person", 128, true), str("moves", 6), str("moves_all", 6)],
    }));
    await qr.createTable(new Table({
      name: "rollup_reach",
      columns: [
        int("appspace_id", true), str("day", 10, true), int("flagged", true), int("seq", true),
        str("campaign", 255, false, true), str("source", 255, false, true), str("medium", 255, false, true), str("person", 128), int("bought"),
      ],
    }));
    await qr.dropTable("rollup_reach_sets");
    await qr.dropTable("rollup_funnel_sets");
    await qr.dropTable("rollup_people");
    await markEveryDay(qr, mysql);
  }
}
