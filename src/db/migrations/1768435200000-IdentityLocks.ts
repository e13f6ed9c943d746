import { MigrationInterface, QueryRunner, Table } from "typeorm";

/**
 * identity_locks: a row per appspace, locked by every transaction that changes the appspace's identity links or
 * persons (ingest of events that link identifiers, the end of a deletion), so that merges of one appspace run one at
 * a time across transactions and servers (src/identity/persons.ts, lockIdentities). Rows are made on first use.
 */
export class IdentityLocks1768435200000 implements MigrationInterface {
  name = "IdentityLocks1768435200000";

  async up(qr: QueryRunner): Promise<void> {
    await qr.createTable(new Table({ name: "identity_locks", columns: [{ name: "appspace_id", type: "integer", isPrimary: true }] }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable("identity_locks");
  }
}
