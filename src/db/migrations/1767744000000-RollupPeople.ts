import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from "typeorm";

/**
 * Daily rollups of what people did, for the reports that count people:
 * - rollup_funnel: per person and day, for each step they could be waiting for
 *   at the start of the day, the step they wait for at its end (six digits;
 *   "012345", no progress, is not stored). A funnel over a range is these moves
 *   applied day after day (src/reports/funnel/funnel.service.ts). `moves` counts the
 *   events no fraud rule flagged, `moves_all` every event.
 * - rollup_reach: per day, flagged, channel (campaign/source/medium) and person
 *   who met it, whether they bought with it; seq numbers a day's rows.
 * - rollup_buyers: per day and person, their first purchase that day and what they
 *   spent net of refunds (cohorts read every day, so it is stored by variant:
 *   with_flagged 0 leaves out flagged events, 1 counts them).
 * - rollup_carts: per day, what the day did to each person's runs of adds without
 *   a cartId (kind "p", key the person) and to each cartId's cart (kind "c"), as
 *   JSON (src/reports/carts/cart-days.ts), of the events no fraud rule flagged (state)
 *   and of all (state_all; null where the day holds nothing of that kind).
 * - rollup_touches: per person and day, the day's touchpoints (events with a
 *   channel) as JSON (src/attribution/touches.ts), keyed by person first: attribution
 *   reads the touches of a period's buyers.
 * They keep a person's rows under the person their identifiers had when the day
 * was computed: a link that moves identifiers to another person marks their days.
 * Every day holding events is marked stale, so the refresher computes them.
 */
export class RollupPeople1767744000000 implements MigrationInterface {
  name = "RollupPeople1767744000000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const str = (name: string, length: number, isPrimary = false, isNullable = false): TableColumnOptions => ({
      name, type: "varchar", length: String(length), isNullable, isPrimary, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}),
    });
    // A day's JSON of one person or cart may pass MySQL's TEXT (64 KB).
    const json = (name: string, isNullable: boolean): TableColumnOptions => ({ name, type: mysql ? "mediumtext" : "text", isNullable });
    const int = (name: string, isPrimary = false): TableColumnOptions => ({ name, type: "integer", default: 0, isPrimary });
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
    await qr.createTable(new Table({
      name: "rollup_buyers",
      columns: [
        int("appspace_id", true), int("with_flagged", true), str("day", 10, true), str("person", 128, true),
        { name: "first_at", type: "datetime", precision: 3, isNullable: true }, { name: "amount", type: "bigint", default: 0 },
      ],
      // The refresher replaces a day's rows of both variants.
      indices: [new TableIndex({ name: "ix_rollup_buyers_day", columnNames: ["appspace_id", "day"] })],
    }));
    await qr.createTable(new Table({
      name: "rollup_carts",
      columns: [
        int("appspace_id", true), str("day", 10, true), str("kind", 1, true), str("cart_key", 128, true),
        json("state", true), json("state_all", true),
      ],
    }));
    await qr.createTable(new Table({
      name: "rollup_touches",
      columns: [int("appspace_id", true), str("person", 128, true), str("day", 10, true), json("touches", false)],
      indices: [new TableIndex({ name: "ix_rollup_touches_day", columnNames: ["appspace_id", "day"] })],
    }));
    const day = mysql ? "DATE_FORMAT(occurred_at, '%Y-%m-%d')" : "substr(occurred_at, 1, 10)";
    await qr.query(`INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT appspace_id, ${day} FROM events`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("rollup_touches");
    await qr.dropTable("rollup_carts");
    await qr.dropTable("rollup_buyers");
    await qr.dropTable("rollup_reach");
    await qr.dropTable("rollup_funnel");
  }
}
