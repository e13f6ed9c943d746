import { Column, Entity, PrimaryColumn } from "typeorm";

/** A product as last described by the events that mention it (kept current at ingest). */
@Entity("products")
export class Product {
  @PrimaryColumn({ name: "appspace_id", type: "integer" })
  appspaceId!: number;

  @PrimaryColumn({ name: "item_id", type: "varchar", length: 128 })
  itemId!: string;

  @Column({ type: "varchar", length: 255, nullable: true })
  name!: string | null;

  @Column({ type: "varchar", length: 255, nullable: true })
  category!: string | null;

  @Column({ type: "varchar", length: 255, nullable: true })
  brand!: string | null;

  @Column({ type: "varchar", length: 255, nullable: true })
  variant!: string | null;

  @Column({ name: "group_id", type: "varchar", length: 128, nullable: true })
  groupId!: string | null;

  @Column({ name: "image_url", type: "varchar", length: 2048, nullable: true })
  imageUrl!: string | null;

  @Column({ name: "last_seen_at", type: "datetime", precision: 3 })
  lastSeenAt!: Date;
}
