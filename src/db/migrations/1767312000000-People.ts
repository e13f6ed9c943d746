import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions, TableIndex } from "typeorm";

/**
 * People and deletion: `identity_persons` maps every linked identifier to its
 * person (the smallest userId of its connected group of links), `deletion_requests`
 * queues GDPR deletions, and items keep their image URL so the catalog can be rebuilt.
 */
export class People1767312000000 implements MigrationInterface {
  name = "People1767312000000";

  async up(qr: QueryRunner): Promise<void> {
    const mysql = qr.connection.options.type === "mysql";
    const str = (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name, type: "varchar", length: String(length), isNullable: true, ...(mysql ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {}), ...extra,
    });
    const time = (name: string, isNullable = false): TableColumnOptions => ({ name, type: "datetime", precision: 3, isNullable });

    await qr.createTable(new Table({
      name: "identity_persons",
      columns: [
        { name: "appspace_id", type: "integer", isPrimary: true },
        str("identifier", 128, { isPrimary: true, isNullable: false }),
        str("person", 128, { isNullable: false }),
      ],
      indices: [new TableIndex({ name: "ix_identity_persons_person", columnNames: ["appspace_id", "person"] })],
    }));

    await qr.createTable(new Table({
      name: "deletion_requests",
      columns: [
        { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
        { name: "appspace_id", type: "integer" },
        str("public_id", 36, { isNullable: false }),
        // sha256 of the userId: what the request keeps once it is done.
        str("user_hash", 64, { isNullable: false }),
        // The userId itself, only while the deletion is pending or running.
        str("pending_user_id", 128),
        str("status", 16, { isNullable: false }),
        str("reason", 255),
        { name: "attempts", type: "integer", default: 0 },
        { name: "events_deleted", type: "integer", default: 0 },
        { name: "identifiers_deleted", type: "integer", default: 0 },
        time("requested_at"),
        time("started_at", true),
        time("completed_at", true),
        // A worker's lease on a RUNNING request; another may take it over once it lapses.
        time("lease_until", true),
      ],
      indices: [
        new TableIndex({ name: "uq_deletion_requests_public_id", columnNames: ["public_id"], isUnique: true }),
        new TableIndex({ name: "ix_deletion_requests_status", columnNames: ["status", "requested_at"] }),
        new TableIndex({ name: "ix_deletion_requests_user", columnNames: ["appspace_id", "user_hash"] }),
      ],
    }));

    await qr.addColumn("event_items", new TableColumn(str("item_image_url", 2048)));
    await qr.createIndex("events", new TableIndex({ name: "ix_events_transaction_type", columnNames: ["appspace_id", "transaction_id", "event_type", "occurred_at"] }));
    await qr.dropIndex("events", "ix_events_transaction");

    // Existing links: each connected group becomes one person, named by its smallest userId.
    const links: { appspace_id: number; identifier: string; user_id: string }[] = await qr.query("SELECT appspace_id, identifier, user_id FROM identity_links");
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      let root = x;
      while (parent.get(root) !== undefined && parent.get(root) !== root) root = parent.get(root)!;
      parent.set(x, root);
      return root;
    };
    const key = (appspaceId: number, id: string) => `${appspaceId}\u0000${id}`;
    for (const l of links) {
      const [a, b] = [find(key(l.appspace_id, l.identifier)), find(key(l.appspace_id, l.user_id))];
      if (a !== b) parent.set(a, b);
    }
    const label = new Map<string, string>();
    for (const l of links) {
      const root = find(key(l.appspace_id, l.user_id));
      if (!label.has(root) || l.user_id < label.get(root)!) label.set(root, l.user_id);
    }
    const rows = new Map<string, [number, string, string]>();
    for (const l of links) {
      for (const id of [l.identifier, l.user_id]) rows.set(key(l.appspace_id, id), [l.appspace_id, id, label.get(find(key(l.appspace_id, id)))!]);
    }
    const all = [...rows.values()];
    for (let i = 0; i < all.length; i += 1000) {
      const chunk = all.slice(i, i + 1000);
      await qr.query(`INSERT INTO identity_persons (appspace_id, identifier, person) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}`, chunk.flat());
    }
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.createIndex("events", new TableIndex({ name: "ix_events_transaction", columnNames: ["appspace_id", "transaction_id"] }));
    await qr.dropIndex("events", "ix_events_transaction_type");
    await qr.dropColumn("event_items", "item_image_url");
    await qr.dropTable("deletion_requests");
    await qr.dropTable("identity_persons");
  }
}
