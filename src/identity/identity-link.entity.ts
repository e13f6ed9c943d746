import { Column, Entity, PrimaryColumn } from "typeorm";

export type LinkKind = "anonymous" | "alias";

/** identifier (an anonymousId or alias) was seen as the same person as userId. */
@Entity("identity_links")
export class IdentityLink {
  @PrimaryColumn({ name: "appspace_id", type: "integer" })
  appspaceId!: number;

  @PrimaryColumn({ type: "varchar", length: 128 })
  identifier!: string;

  @PrimaryColumn({ name: "user_id", type: "varchar", length: 128 })
  userId!: string;

  @Column({ type: "varchar", length: 16 })
  kind!: LinkKind;

  @Column({ name: "first_seen_at", type: "datetime", precision: 3 })
  firstSeenAt!: Date;
}
