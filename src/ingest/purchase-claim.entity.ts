import { Column, Entity, PrimaryColumn } from "typeorm";

/** The event that holds a transactionId for 24 hours; a PURCHASE that cannot take the claim is a duplicate. */
@Entity("purchase_claims")
export class PurchaseClaim {
  @PrimaryColumn({ name: "appspace_id", type: "integer" })
  appspaceId!: number;

  @PrimaryColumn({ name: "transaction_id", type: "varchar", length: 128 })
  transactionId!: string;

  @Column({ name: "claimed_at", type: "datetime", precision: 3 })
  claimedAt!: Date;

  @Column({ name: "event_row_id", type: "bigint" })
  eventRowId!: string;
}
