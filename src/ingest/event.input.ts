import { Field, Float, InputType, Int } from "type-graphql";
import { EventType } from "../events/event-type";

@InputType()
export class ItemInput {
  @Field(() => String) itemId!: string;
  @Field(() => String, { nullable: true }) itemName?: string;
  @Field(() => String, { nullable: true }) itemCategory?: string;
  @Field(() => String, { nullable: true }) itemBrand?: string;
  @Field(() => String, { nullable: true }) itemVariant?: string;
  @Field(() => String, { nullable: true, description: "Parent product id of a variant (the same as itemId for simple products)." }) itemGroupId?: string;
  @Field(() => String, { nullable: true }) itemListName?: string;
  @Field(() => String, { nullable: true }) itemListId?: string;
  @Field(() => String, { nullable: true }) itemImageUrl?: string;
  @Field(() => Float, { nullable: true, description: "Unit price." }) price?: number;
  @Field(() => Int, { nullable: true, defaultValue: 1 }) quantity?: number;
  @Field(() => String, { nullable: true, description: "Item-level currency; default: the event's currency." }) currency?: string;
  @Field(() => String, { nullable: true }) couponCode?: string;
  @Field(() => Float, { nullable: true }) discount?: number;
  @Field(() => String, { nullable: true, description: "Marketplace seller of this line." }) merchantId?: string;
}

@InputType()
export class PropertyInput {
  @Field(() => String) key!: string;
  @Field(() => String) value!: string;
}

@InputType()
export class ContextInput {
  @Field(() => String, { nullable: true, description: "Used for fraud checks; stored only anonymised, and not at all when dataProtection is true (the default)." }) ip?: string;
  @Field(() => Boolean, { nullable: true, defaultValue: true }) dataProtection?: boolean;
  @Field(() => String, { nullable: true, description: "Device type and platform are derived from it when not given." }) userAgent?: string;
  @Field(() => String, { nullable: true }) deviceType?: string;
  @Field(() => String, { nullable: true }) platform?: string;
  @Field(() => String, { nullable: true, description: "ISO 3166-1 alpha-2." }) country?: string;
  @Field(() => String, { nullable: true }) city?: string;
  @Field(() => String, { nullable: true }) locale?: string;
  @Field(() => String, { nullable: true }) pageUrl?: string;
  @Field(() => String, { nullable: true }) referrer?: string;
}

@InputType()
export class EventInput {
  @Field(() => EventType) eventType!: EventType;
  @Field(() => String, { nullable: true, description: "Client-chosen idempotency key: a second event with the same eventId in the same appspace is ignored (accepted, not stored again)." })
  eventId?: string;
  @Field(() => Date, { nullable: true, description: "When it happened; default: when it was received. Backfill of history is allowed back to the appspace's retention; more than 1 hour in the future is rejected." })
  timestamp?: Date;
  @Field(() => String, { nullable: true, description: "Order id. Required for PURCHASE, REFUND, CANCEL and FULFILL. A PURCHASE of an order already stored is a duplicate and ignored, however long after it comes (an order counts once)." })
  transactionId?: string;
  @Field(() => Float, { nullable: true, description: "Order total. Required for PURCHASE, REFUND, SPEND_CREDITS; must be >= 0." })
  revenue?: number;
  @Field(() => String, { nullable: true, description: "ISO 4217 code; default: the appspace's base currency." }) currency?: string;
  @Field(() => String, { nullable: true }) userId?: string;
  @Field(() => String, { nullable: true, description: "Device or cookie id the person was seen under before logging in. When an event carries both, anonymousId is linked to userId." })
  anonymousId?: string;
  @Field(() => [String], { nullable: true, description: "Other identifiers the same person was seen under (at most 100); all are linked to userId." })
  aliases?: string[];
  @Field(() => String, { nullable: true }) sessionId?: string;
  @Field(() => String, { nullable: true }) cartId?: string;
  @Field(() => String, { nullable: true }) couponCode?: string;
  @Field(() => Float, { nullable: true }) discount?: number;
  @Field(() => Float, { nullable: true }) shipping?: number;
  @Field(() => Float, { nullable: true }) tax?: number;
  @Field(() => [ItemInput], { nullable: true, description: "Required (non-empty) for VIEW_ITEM, ADD_TO_CART, REMOVE_FROM_CART, ADD_TO_WISHLIST." })
  items?: ItemInput[];
  @Field(() => [PropertyInput], { nullable: true, description: "Free string key/values. campaign, source and medium name the marketing channel; search_term, rating, reason are read where they apply." })
  properties?: PropertyInput[];
  @Field(() => ContextInput, { nullable: true }) context?: ContextInput;
}
