import { Column, Entity, PrimaryColumn } from "typeorm";

/** An order named by an event, and the PURCHASE that counts for it; another PURCHASE of it is a duplicate. */
@Entity("orders")
export class Order {
  @PrimaryColumn({ name: "appspace_id", type: "integer" })
  appspaceId!: number;

  @PrimaryColumn({ name: "transaction_id", type: "varchar", length: 128 })
  transactionId!: string;

  @Column({ name: "purchase_row_id", type: "bigint", nullable: true })
  purchaseRowId!: string | null;
}
