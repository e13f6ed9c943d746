import { Column, Entity, PrimaryColumn } from "typeorm";

const id = (name: string) => ({ name, type: "varchar" as const, length: 128, nullable: true });
const text = (name: string, length: number) => ({ name, type: "varchar" as const, length, nullable: true });
const money = (name: string) => ({ name, type: "bigint" as const, nullable: true });

/** A stored ecommerce event. Money columns hold minor units; `revenue` etc. are in the appspace's base currency. */
@Entity("events")
export class EventRecord {
  @PrimaryColumn({ type: "bigint" }) id!: string;
  @Column({ name: "appspace_id", type: "integer" }) appspaceId!: number;
  @Column(id("event_id")) eventId!: string | null;
  @Column({ name: "event_type", type: "varchar", length: 24 }) eventType!: string;
  @Column({ name: "occurred_at", type: "datetime", precision: 3 }) occurredAt!: Date;
  @Column({ name: "received_at", type: "datetime", precision: 3 }) receivedAt!: Date;
  @Column(id("transaction_id")) transactionId!: string | null;
  @Column(id("user_id")) userId!: string | null;
  @Column(id("anonymous_id")) anonymousId!: string | null;
  @Column(id("session_id")) sessionId!: string | null;
  @Column(id("cart_id")) cartId!: string | null;
  @Column(id("coupon_code")) couponCode!: string | null;
  @Column(money("revenue")) revenue!: string | null;
  @Column(money("discount")) discount!: string | null;
  @Column(money("shipping")) shipping!: string | null;
  @Column(money("tax")) tax!: string | null;
  @Column({ type: "varchar", length: 3 }) currency!: string;
  @Column(money("original_revenue")) originalRevenue!: string | null;
  @Column(money("original_discount")) originalDiscount!: string | null;
  @Column(money("original_shipping")) originalShipping!: string | null;
  @Column(money("original_tax")) originalTax!: string | null;
  @Column({ name: "fx_rate", type: "varchar", length: 40 }) fxRate!: string;
  @Column(text("fx_rate_date", 10)) fxRateDate!: string | null;
  @Column(text("campaign", 255)) campaign!: string | null;
  @Column(text("source", 255)) source!: string | null;
  @Column(text("medium", 255)) medium!: string | null;
  @Column(text("device_type", 32)) deviceType!: string | null;
  @Column(text("platform", 32)) platform!: string | null;
  @Column(text("browser", 64)) browser!: string | null;
  @Column(text("country", 2)) country!: string | null;
  @Column(text("city", 128)) city!: string | null;
  @Column(text("locale", 35)) locale!: string | null;
  @Column(text("page_url", 2048)) pageUrl!: string | null;
  @Column(text("referrer", 2048)) referrer!: string | null;
  @Column(text("user_agent", 1024)) userAgent!: string | null;
  @Column(text("ip_anon", 45)) ipAnon!: string | null;
}
