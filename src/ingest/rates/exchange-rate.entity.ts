import { Column, Entity, PrimaryColumn } from "typeorm";

/** Units of currency per 1 USD in force from rateDate (UTC) until the next loaded date. */
@Entity("exchange_rates")
export class ExchangeRate {
  @PrimaryColumn({ type: "varchar", length: 3 })
  currency!: string;

  @PrimaryColumn({ name: "rate_date", type: "varchar", length: 10 })
  rateDate!: string;

  @Column({ name: "per_usd", type: "varchar", length: 40 })
  perUsd!: string;
}
