import { Field, Int, ObjectType } from "type-graphql";

@ObjectType()
export class TrackResult {
  @Field(() => Boolean) ok!: boolean;
}

@ObjectType()
export class EventError {
  @Field(() => Int, { description: "Position of the event in the batch, from 0." }) index!: number;
  @Field(() => String, { description: "Stable machine-readable code, e.g. MISSING_FIELD, INVALID_VALUE." }) code!: string;
  @Field(() => String, { description: 'e.g. "events[0]: transactionId is required for PURCHASE events".' }) message!: string;
}

@ObjectType()
export class TrackBatchResult {
  @Field(() => Boolean) ok!: boolean;
  @Field(() => Int, { description: "Events stored or deduplicated; events blocked by fraud rules are also counted, so detection is not revealed." })
  accepted!: number;
  @Field(() => [EventError]) errors!: EventError[];
}
