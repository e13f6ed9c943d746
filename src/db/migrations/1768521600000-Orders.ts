import { MigrationInterface, QueryRunner, Table } from "typeorm";

/**
 * orders replaces purchase_claims: a row per transactionId an order event (PURCHASE, REFUND, CANCEL, FULFILL) has
 * named, holding the PURCHASE that counts for it (null until one arrives). The 24-hour expiry of the claims goes: an
 * order counts once whenever it is re-sent (src/ingest/orders.ts). Every writer of an order's events locks its row
 * first, so what a refund copies of its purchase (its flag) never races the purchase's arrival.
 */
export class Orders1768521600000 implements MigrationInterface {
  name = "Orders1768521600000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    await qr.createTable(new Table({
      name: "orders",
      columns: [
        { name: "appspace_id", type: "integer", isPrimary: true },
        { name: "transaction_id", type: "varchar", length: "128", isPrimary: true, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}) },
        { name: "purchase_row_id", type: "bigint", isNullable: true },
      ],
    }));
    await qr.query("INSERT INTO orders (appspace_id, transaction_id, purchase_row_id) SELECT appspace_id, transaction_id, event_row_id FROM purchase_claims");
    await qr.dropTable("purchase_claims");
  }

  async down(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    await qr.createTable(new Table({
      name: "purchase_claims",
      columns: [
        { name: "appspace_id", type: "integer", isPrimary: true },
        { name: "transaction_id", type: "varchar", length: "128", isPrimary: true, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}) },
        { name: "claimed_at", type: "datetime", precision: 3 },
        { name: "event_row_id", type: "bigint" },
      ],
    }));
    await qr.query(`INSERT INTO purchase_claims (appspace_id, transaction_id, claimed_at, event_row_id)
      SELECT o.appspace_id, o.transaction_id, e.received_at, o.purchase_row_id FROM orders o JOIN events e ON e.id = o.purchase_row_id`);
    await qr.dropTable("orders");
  }
}
