import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from "typeorm";

/** The ingestion schema: tenants and keys, events with items and properties, dedup claims, identities, catalog, rates. */
export class Init1767225600000 implements MigrationInterface {
  name = "Init1767225600000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    // Identifiers compare byte for byte on MySQL too ("Order-1" is not "order-1").
    const str = (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name, type: "varchar", length: String(length), isNullable: true, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}), ...extra,
    });
    const time = (name: string, isNullable = false): TableColumnOptions => ({ name, type: "datetime", precision: 3, isNullable });
    const big = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: "bigint", isNullable: true, ...extra });
    const int = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: "integer", isNullable: false, ...extra });
    const serial: TableColumnOptions = { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" };

    await qr.createTable(new Table({
      name: "appspaces",
      columns: [
        serial,
        str("name", 100, { isNullable: false }),
        str("base_currency", 3, { isNullable: false }),
        int("retention_days", { default: 365 }),
        str("plan", 16, { isNullable: false, default: "'pro'" }),
        time("created_at"),
      ],
    }));

    await qr.createTable(new Table({
      name: "api_keys",
      columns: [
        serial,
        int("appspace_id"),
        str("kind", 16, { isNullable: false }),
        str("key_hash", 64, { isNullable: false }),
        str("prefix", 16, { isNullable: false }),
        time("created_at"),
        time("expires_at", true),
        time("revoked_at", true),
      ],
      indices: [
        new TableIndex({ name: "uq_api_keys_hash", columnNames: ["key_hash"], isUnique: true }),
        new TableIndex({ name: "ix_api_keys_appspace", columnNames: ["appspace_id"] }),
      ],
    }));

    await qr.createTable(new Table({
      name: "events",
      columns: [
        big("id", { isPrimary: true, isNullable: false }),
        int("appspace_id"),
        str("event_id", 128),
        str("event_type", 24, { isNullable: false }),
        time("occurred_at"),
        time("received_at"),
        str("transaction_id", 128),
        str("user_id", 128),
        str("anonymous_id", 128),
        str("session_id", 128),
        str("cart_id", 128),
        str("coupon_code", 128),
        // Money in minor units of the appspace's base currency...
        big("revenue"), big("discount"), big("shipping"), big("tax"),
        // ...beside what was sent, in minor units of the sent currency, and the rate used.
        str("currency", 3, { isNullable: false }),
        big("original_revenue"), big("original_discount"), big("original_shipping"), big("original_tax"),
        str("fx_rate", 40, { isNullable: false }),
        str("fx_rate_date", 10),
        str("campaign", 255), str("source", 255), str("medium", 255),
        str("device_type", 32), str("platform", 32), str("browser", 64),
        str("country", 2), str("city", 128), str("locale", 35),
        str("page_url", 2048), str("referrer", 2048), str("user_agent", 1024),
        str("ip_anon", 45),
      ],
      indices: [
        new TableIndex({ name: "uq_events_event_id", columnNames: ["appspace_id", "event_id"], isUnique: true }),
        new TableIndex({ name: "ix_events_time", columnNames: ["appspace_id", "occurred_at"] }),
        new TableIndex({ name: "ix_events_type_time", columnNames: ["appspace_id", "event_type", "occurred_at"] }),
        new TableIndex({ name: "ix_events_user", columnNames: ["appspace_id", "user_id"] }),
        new TableIndex({ name: "ix_events_anonymous", columnNames: ["appspace_id", "anonymous_id"] }),
        new TableIndex({ name: "ix_events_transaction", columnNames: ["appspace_id", "transaction_id"] }),
      ],
    }));

    await qr.createTable(new Table({
      name: "event_items",
      columns: [
        big("event_row_id", { isPrimary: true, isNullable: false }),
        int("line", { isPrimary: true }),
        int("appspace_id"),
        str("item_id", 128, { isNullable: false }),
        str("item_name", 255), str("item_category", 255), str("item_brand", 255), str("item_variant", 255),
        str("item_group_id", 128), str("item_list_name", 255), str("item_list_id", 128),
        int("quantity"),
        big("price"), big("discount"),
        str("currency", 3, { isNullable: false }),
        big("original_price"), big("original_discount"),
        str("fx_rate", 40, { isNullable: false }),
        str("coupon_code", 128), str("merchant_id", 128),
      ],
      indices: [new TableIndex({ name: "ix_event_items_item", columnNames: ["appspace_id", "item_id"] })],
    }));

    await qr.createTable(new Table({
      name: "event_properties",
      columns: [
        big("event_row_id", { isPrimary: true, isNullable: false }),
        str("prop_key", 64, { isPrimary: true, isNullable: false }),
        int("appspace_id"),
        str("prop_value", 1024, { isNullable: false }),
      ],
    }));

    await qr.createTable(new Table({
      name: "purchase_claims",
      columns: [
        int("appspace_id", { isPrimary: true }),
        str("transaction_id", 128, { isPrimary: true, isNullable: false }),
        time("claimed_at"),
        big("event_row_id", { isNullable: false }),
      ],
    }));

    await qr.createTable(new Table({
      name: "identity_links",
      columns: [
        int("appspace_id", { isPrimary: true }),
        str("identifier", 128, { isPrimary: true, isNullable: false }),
        str("user_id", 128, { isPrimary: true, isNullable: false }),
        str("kind", 16, { isNullable: false }),
        time("first_seen_at"),
      ],
      indices: [new TableIndex({ name: "ix_identity_links_user", columnNames: ["appspace_id", "user_id"] })],
    }));

    await qr.createTable(new Table({
      name: "products",
      columns: [
        int("appspace_id", { isPrimary: true }),
        str("item_id", 128, { isPrimary: true, isNullable: false }),
        str("name", 255), str("category", 255), str("brand", 255), str("variant", 255),
        str("group_id", 128), str("image_url", 2048),
        time("last_seen_at"),
      ],
    }));

    await qr.createTable(new Table({
      name: "exchange_rates",
      columns: [
        str("currency", 3, { isPrimary: true, isNullable: false }),
        str("rate_date", 10, { isPrimary: true, isNullable: false }),
        // Units of the currency per 1 USD, as a decimal string (exact, as loaded).
        str("per_usd", 40, { isNullable: false }),
      ],
    }));

    await qr.createTable(new Table({
      name: "id_blocks",
      columns: [str("name", 32, { isPrimary: true, isNullable: false }), big("next_id", { isNullable: false })],
    }));
    await qr.query("INSERT INTO id_blocks (name, next_id) VALUES ('events', 1)");
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const t of ["id_blocks", "exchange_rates", "products", "identity_links", "purchase_claims", "event_properties", "event_items", "events", "api_keys", "appspaces"]) {
      await qr.dropTable(t);
    }
  }
}
