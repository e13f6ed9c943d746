import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

export type KeyKind = "publishable" | "secret";

/** An API key, stored only as its SHA-256 hash; prefix is what a person sees in listings. */
@Entity("api_keys")
export class ApiKey {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: "appspace_id", type: "integer" })
  appspaceId!: number;

  @Column({ type: "varchar", length: 16 })
  kind!: KeyKind;

  @Column({ name: "key_hash", type: "varchar", length: 64 })
  keyHash!: string;

  @Column({ type: "varchar", length: 16 })
  prefix!: string;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt!: Date;

  @Column({ name: "expires_at", type: "datetime", precision: 3, nullable: true })
  expiresAt!: Date | null;

  @Column({ name: "revoked_at", type: "datetime", precision: 3, nullable: true })
  revokedAt!: Date | null;

  /** Comma-separated scopes (src/appspaces/scopes.ts): what the key may do. */
  @Column({ type: "varchar", length: 200 })
  scopes!: string;

  /** Comma-separated origins a browser may send the key from; null: any. */
  @Column({ name: "allowed_origins", type: "varchar", length: 4000, nullable: true })
  allowedOrigins!: string | null;
}
