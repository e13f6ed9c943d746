import { MigrationInterface, QueryRunner, TableColumn } from "typeorm";
import { dbTime } from "../sql";

/**
 * Scoped keys (src/appspaces/scopes.ts): api_keys.scopes, comma-separated, and allowed_origins, the origins a browser
 * may use the key from (NULL: any). Keys there already keep what they could do: secret ones get admin, publishable
 * ones ingest. A row written without scopes has none (the default is empty), never admin.
 */
export class KeyScopes1769299200000 implements MigrationInterface {
  name = "KeyScopes1769299200000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn("api_keys", new TableColumn({ name: "scopes", type: "varchar", length: "200", default: "''" }));
    await qr.addColumn("api_keys", new TableColumn({ name: "allowed_origins", type: "varchar", length: "4000", isNullable: true }));
    await qr.query("UPDATE api_keys SET scopes = 'admin' WHERE kind = 'secret'");
    await qr.query("UPDATE api_keys SET scopes = 'ingest' WHERE kind = 'publishable'");
  }

  /**
   * Without the columns every secret key can do everything, from anywhere: the keys made narrower than that are
   * revoked first, so that going back (and forward again) never widens a key.
   */
  async down(qr: QueryRunner): Promise<void> {
    await qr.query(
      `UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL
          AND (allowed_origins IS NOT NULL OR (kind = 'secret' AND scopes <> 'admin') OR (kind = 'publishable' AND scopes <> 'ingest'))`,
      [dbTime(new Date())],
    );
    await qr.dropColumn("api_keys", "allowed_origins");
    await qr.dropColumn("api_keys", "scopes");
  }
}
