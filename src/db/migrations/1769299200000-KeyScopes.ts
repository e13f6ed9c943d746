import { MigrationInterface, QueryRunner, TableColumn } from "typeorm";

/**
 * Scoped keys (src/appspaces/scopes.ts): api_keys.scopes, comma-separated, and allowed_origins, the origins a browser
 * may use the key from (NULL: any). Keys there already keep what they could do: secret ones get admin, publishable
 * ones ingest.
 */
export class KeyScopes1769299200000 implements MigrationInterface {
  name = "KeyScopes1769299200000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn("api_keys", new TableColumn({ name: "scopes", type: "varchar", length: "200", default: "'admin'" }));
    await qr.addColumn("api_keys", new TableColumn({ name: "allowed_origins", type: "varchar", length: "4000", isNullable: true }));
    await qr.query("UPDATE api_keys SET scopes = 'ingest' WHERE kind = 'publishable'");
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn("api_keys", "allowed_origins");
    await qr.dropColumn("api_keys", "scopes");
  }
}
