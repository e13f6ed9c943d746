import { Field, ObjectType } from "type-graphql";

@ObjectType("Product", { description: "A product as last described by the events that mention it." })
export class ProductView {
  @Field(() => String) itemId!: string;
  @Field(() => String, { nullable: true }) name!: string | null;
  @Field(() => String, { nullable: true }) category!: string | null;
  @Field(() => String, { nullable: true }) brand!: string | null;
  @Field(() => String, { nullable: true }) variant!: string | null;
  @Field(() => String, { nullable: true }) groupId!: string | null;
  @Field(() => String, { nullable: true }) imageUrl!: string | null;
  @Field(() => Date, { nullable: true }) lastSeenAt!: Date | null;
}
