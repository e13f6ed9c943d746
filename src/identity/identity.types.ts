import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Report } from "../data-as-of";
import { ProductView } from "../catalog/product.type";
import { EventType } from "../events/event-type";

export enum DeletionStatus {
  PENDING = "PENDING",
  RUNNING = "RUNNING",
  DONE = "DONE",
  FAILED = "FAILED",
}
registerEnumType(DeletionStatus, { name: "DeletionStatus" });

@ObjectType()
export class UserDeletion {
  @Field(() => ID) id!: string;
  @Field(() => Boolean) ok!: boolean;
  @Field(() => String) deletedUserId!: string;
  @Field(() => DeletionStatus) status!: DeletionStatus;
  @Field(() => Date) requestedAt!: Date;
  @Field(() => Date, { nullable: true }) completedAt!: Date | null;
  @Field(() => Boolean, { description: "True for deleteUser(dryRun: true): nothing was deleted or recorded." }) dryRun!: boolean;
  @Field(() => Int, { description: "Events deleted so far (on a dry run: that would be deleted)." }) eventsDeleted!: number;
  @Field(() => Int, { description: "Identifiers (the userId, anonymousIds, aliases) deleted so far (on a dry run: that would be)." }) identifiersDeleted!: number;
  @Field(() => String, { nullable: true, description: "Why a FAILED deletion failed." }) reason!: string | null;
}

@ObjectType()
export class JourneyItem {
  @Field(() => String) itemId!: string;
  @Field(() => String, { nullable: true }) itemName!: string | null;
  @Field(() => Float, { nullable: true }) price!: number | null;
  @Field(() => Int) quantity!: number;
  @Field(() => ProductView, { nullable: true }) product?: ProductView | null;
}

@ObjectType()
export class JourneyEvent {
  @Field(() => EventType) eventType!: EventType;
  @Field(() => Date) timestamp!: Date;
  @Field(() => String, { nullable: true }) transactionId!: string | null;
  @Field(() => Float, { nullable: true }) revenue!: number | null;
  @Field(() => [JourneyItem], { description: "Batched through a per-request DataLoader." }) items?: JourneyItem[];
  /** The events row, for the items loader; not in the schema. */
  rowId!: number;
}

@ObjectType()
export class UserJourney extends Report {
  @Field(() => String) userId!: string;
  @Field(() => [JourneyEvent], { description: "Oldest first, across every identifier linked to the user." }) events!: JourneyEvent[];
  @Field(() => [String], { description: "The userId and every identifier linked to the same person." }) identifiers!: string[];
}
