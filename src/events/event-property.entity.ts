import { Column, Entity, PrimaryColumn } from "typeorm";

/** A free key/value sent with an event. */
@Entity("event_properties")
export class EventProperty {
  @PrimaryColumn({ name: "event_row_id", type: "bigint" }) eventRowId!: string;
  @PrimaryColumn({ name: "prop_key", type: "varchar", length: 64 }) key!: string;
  @Column({ name: "appspace_id", type: "integer" }) appspaceId!: number;
  @Column({ name: "prop_value", type: "varchar", length: 1024 }) value!: string;
}
