import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from "typeorm";

/**
 * orders replaces purchase_claims: a row per transactionId an order event (PURCHASE, REFUND, CANCEL, FULFILL) has
 * named, holding the PURCHASE that counts for it (null until one arrives). The 24-hour expiry of the claims goes: an
 * order counts once whenever it is re-sent (src/ingest/orders.ts). Every writer of an order's events locks its row
 * first, so what a refund copies of its purchase (its flag) never races the purchase's arrival. Refunds, cancels and
 * fulfilments stored before take their purchase's flags here (their days are marked stale; the ingestion stats of their
 * days of receipt stay as counted then).
 */
/** The key both tables share: appspace and transactionId (compared byte for byte on MySQL, as events' are). */
const orderKey = (qr: QueryRunner): TableColumnOptions[] => [
  { name: "appspace_id", type: "integer", isPrimary: true },
  { name: "transaction_id", type: "varchar", length: "128", isPrimary: true, ...(qr.connection.options.type === "mysql" ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}) },
];

export class Orders1768521600000 implements MigrationInterface {
  name = "Orders1768521600000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    await qr.createTable(new Table({ name: "orders", columns: [...orderKey(qr), { name: "purchase_row_id", type: "bigint", isNullable: true }] }));
    await qr.query("INSERT INTO orders (appspace_id, transaction_id, purchase_row_id) SELECT appspace_id, transaction_id, event_row_id FROM purchase_claims");
    await qr.dropTable("purchase_claims");
    // Orders known only by their refunds, cancels or fulfilments get their row, so that a purchase arriving later
    // finds them; those of an order with a purchase take its flags, and their days are rolled up again.
    await qr.query(`INSERT INTO orders (appspace_id, transaction_id, purchase_row_id)
      SELECT DISTINCT e.appspace_id, e.transaction_id, NULL FROM events e
      WHERE e.event_type IN ('REFUND', 'CANCEL', 'FULFILL') AND e.transaction_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.appspace_id = e.appspace_id AND o.transaction_id = e.transaction_id)`);
    const astray = `FROM events r JOIN orders o ON o.appspace_id = r.appspace_id AND o.transaction_id = r.transaction_id
      JOIN events p ON p.id = o.purchase_row_id
      WHERE r.event_type IN ('REFUND', 'CANCEL', 'FULFILL') AND COALESCE(r.flags, '') <> COALESCE(p.flags, '')`;
    const day = mysql ? "DATE_FORMAT(r.occurred_at, '%Y-%m-%d')" : "substr(r.occurred_at, 1, 10)";
    await qr.query(`INSERT INTO rollup_dirty (appspace_id, day) SELECT DISTINCT r.appspace_id, ${day} ${astray}`);
    await qr.query(mysql
      ? `UPDATE events r JOIN orders o ON o.appspace_id = r.appspace_id AND o.transaction_id = r.transaction_id
          JOIN events p ON p.id = o.purchase_row_id SET r.flags = p.flags
          WHERE r.event_type IN ('REFUND', 'CANCEL', 'FULFILL') AND COALESCE(r.flags, '') <> COALESCE(p.flags, '')`
      : `UPDATE events SET flags = (SELECT p.flags FROM orders o JOIN events p ON p.id = o.purchase_row_id
            WHERE o.appspace_id = events.appspace_id AND o.transaction_id = events.transaction_id)
          WHERE id IN (SELECT r.id ${astray})`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.createTable(new Table({
      name: "purchase_claims",
      columns: [...orderKey(qr), { name: "claimed_at", type: "datetime", precision: 3 }, { name: "event_row_id", type: "bigint" }],
    }));
    await qr.query(`INSERT INTO purchase_claims (appspace_id, transaction_id, claimed_at, event_row_id)
      SELECT o.appspace_id, o.transaction_id, e.received_at, o.purchase_row_id FROM orders o JOIN events e ON e.id = o.purchase_row_id`);
    await qr.dropTable("orders");
  }
}
