import { Field, Float, Int, ObjectType, registerEnumType } from "type-graphql";
import { Report } from "../data-as-of";

export enum AttributionModel {
  LAST_CLICK = "LAST_CLICK",
  LINEAR = "LINEAR",
  TIME_DECAY = "TIME_DECAY",
}
registerEnumType(AttributionModel, { name: "AttributionModel" });

@ObjectType()
export class AttributedChannel {
  @Field(() => String, { nullable: true }) campaign!: string | null;
  @Field(() => String, { nullable: true }) source!: string | null;
  @Field(() => String, { nullable: true }) medium!: string | null;
  @Field(() => Float) revenue!: number;
  @Field(() => Float, { description: "Order credit; fractional under LINEAR and TIME_DECAY." }) orders!: number;
  @Field(() => Float) pctOfTotal!: number;
}

@ObjectType()
export class UnattributedRevenue {
  @Field(() => Float) revenue!: number;
  @Field(() => Int) orders!: number;
}

@ObjectType()
export class Attribution extends Report {
  @Field(() => [AttributedChannel]) attributed!: AttributedChannel[];
  @Field(() => UnattributedRevenue) unattributed!: UnattributedRevenue;
  @Field(() => AttributionModel) model!: AttributionModel;
  @Field(() => Int) windowDays!: number;
}
