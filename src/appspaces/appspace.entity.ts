import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

export type Plan = "free" | "pro" | "enterprise";
export const PLANS: readonly Plan[] = ["free", "pro", "enterprise"];

/** A tenant: every event, key and report belongs to exactly one appspace. */
@Entity("appspaces")
export class Appspace {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 100 })
  name!: string;

  @Column({ name: "base_currency", type: "varchar", length: 3 })
  baseCurrency!: string;

  @Column({ name: "retention_days", type: "integer" })
  retentionDays!: number;

  @Column({ type: "varchar", length: 16 })
  plan!: Plan;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt!: Date;

  /** JSON of the settings that differ from the plan's defaults (see settings.ts). */
  @Column({ type: "varchar", length: 4000, nullable: true })
  settings!: string | null;
}
