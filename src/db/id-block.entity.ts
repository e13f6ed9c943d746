import { Column, Entity, PrimaryColumn } from "typeorm";

/** Hi/lo id blocks: a server reserves ids in blocks so a batch can insert events and their items without reading ids back. */
@Entity("id_blocks")
export class IdBlock {
  @PrimaryColumn({ type: "varchar", length: 32 })
  name!: string;

  @Column({ name: "next_id", type: "bigint" })
  nextId!: string;
}
