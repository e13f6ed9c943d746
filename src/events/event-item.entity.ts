import { Column, Entity, PrimaryColumn } from "typeorm";

const text = (name: string, length: number) => ({ name, type: "varchar" as const, length, nullable: true });

/** One line of an event; price and discount in minor units of the base currency, originals beside them. */
@Entity("event_items")
export class EventItem {
  @PrimaryColumn({ name: "event_row_id", type: "bigint" }) eventRowId!: string;
  @PrimaryColumn({ type: "integer" }) line!: number;
  @Column({ name: "appspace_id", type: "integer" }) appspaceId!: number;
  @Column({ name: "item_id", type: "varchar", length: 128 }) itemId!: string;
  @Column(text("item_name", 255)) itemName!: string | null;
  @Column(text("item_category", 255)) itemCategory!: string | null;
  @Column(text("item_brand", 255)) itemBrand!: string | null;
  @Column(text("item_variant", 255)) itemVariant!: string | null;
  @Column(text("item_group_id", 128)) itemGroupId!: string | null;
  @Column(text("item_list_name", 255)) itemListName!: string | null;
  @Column(text("item_list_id", 128)) itemListId!: string | null;
  @Column({ type: "integer" }) quantity!: number;
  @Column({ type: "bigint", nullable: true }) price!: string | null;
  @Column({ type: "bigint", nullable: true }) discount!: string | null;
  @Column({ type: "varchar", length: 3 }) currency!: string;
  @Column({ name: "original_price", type: "bigint", nullable: true }) originalPrice!: string | null;
  @Column({ name: "original_discount", type: "bigint", nullable: true }) originalDiscount!: string | null;
  @Column({ name: "fx_rate", type: "varchar", length: 40 }) fxRate!: string;
  @Column(text("coupon_code", 128)) couponCode!: string | null;
  @Column(text("merchant_id", 128)) merchantId!: string | null;
}
