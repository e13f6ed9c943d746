import { Field, Float, Int, ObjectType } from "type-graphql";
import { Report } from "../data-as-of";
import { ProductView } from "../catalog/product.type";
import { DateScalar } from "../scalars";
import { BreakdownDimension } from "./sales/breakdown.service";

@ObjectType()
export class Overview extends Report {
  @Field(() => Float) totalRevenue!: number;
  @Field(() => Float, { description: "totalRevenue minus refunds and cancellations." }) netRevenue!: number;
  @Field(() => Int) totalOrders!: number;
  @Field(() => Int) totalRefunds!: number;
  @Field(() => Float) refundAmount!: number;
  @Field(() => Float) avgOrderValue!: number;
  @Field(() => Int) totalItemsSold!: number;
  @Field(() => Int, {
    description: "Orders with a FULFILL event in the range, counted once however many partial fulfilments they had.",
  })
  fulfilledOrders!: number;
  @Field(() => Float, {
    description:
      "Mean hours (one decimal) from the purchase of each of fulfilledOrders to its first FULFILL in the range; 0 when none.",
  })
  avgHoursToFulfil!: number;
  @Field(() => Float, { description: "Percent, 0-100." }) cartAbandonmentRate!: number;
  @Field(() => Float, { description: "Percent of people who viewed an item and added one to a cart." })
  addToCartRate!: number;
  @Field(() => String) currency!: string;
  @Field(() => Int) days!: number;
  @Field(() => DateScalar, { description: "First day of the range, after clamping." }) start!: string;
  @Field(() => DateScalar, { description: "Last day of the range, after clamping." }) end!: string;
  @Field(() => Overview, {
    nullable: true,
    description: "The same figures for the period asked with compareTo; null without it.",
  })
  previous?: Overview | null;
}

@ObjectType()
export class RevenuePoint {
  @Field(() => DateScalar) date!: string;
  @Field(() => Float) revenue!: number;
  @Field(() => Int) orders!: number;
}

@ObjectType()
export class RevenueTimeseries extends Report {
  @Field(() => [RevenuePoint], { description: "One point per day of the range, days without orders included." })
  series!: RevenuePoint[];
  @Field(() => Int) days!: number;
  @Field(() => RevenueTimeseries, {
    nullable: true,
    description: "The series of the period asked with compareTo, day for day; null without it.",
  })
  previous?: RevenueTimeseries | null;
}

@ObjectType()
export class FunnelStep {
  @Field(() => String, {
    description: "view_item, add_to_cart, view_cart, begin_checkout, add_payment_info, purchase.",
  })
  name!: string;
  @Field(() => Int, {
    description: "People who reached this step after every earlier step, in order, within the range.",
  })
  count!: number;
  @Field(() => Float, { description: "Percent of the previous step; 100 for the first." }) percentage!: number;
}

@ObjectType()
export class Funnel extends Report {
  @Field(() => [FunnelStep]) steps!: FunnelStep[];
  @Field(() => Int) days!: number;
}

@ObjectType()
export class TopProduct {
  @Field(() => String) itemId!: string;
  @Field(() => String, { nullable: true }) itemName!: string | null;
  @Field(() => Float) revenue!: number;
  @Field(() => Int) quantity!: number;
  @Field(() => Int) orders!: number;
  @Field(() => ProductView, {
    nullable: true,
    description: "Catalog details, batched through a per-request DataLoader.",
  })
  product?: ProductView | null;
}

@ObjectType()
export class TopProducts extends Report {
  @Field(() => [TopProduct]) products!: TopProduct[];
  @Field(() => Int) days!: number;
}

@ObjectType({
  description:
    "Purchases credited to a channel: their own campaign, source and medium, or when they carry none, those of the latest event with one of the same person or the same sessionId in the 24 hours before.",
})
export class ChannelRevenue {
  @Field(() => String, { nullable: true }) campaign!: string | null;
  @Field(() => String, { nullable: true }) source!: string | null;
  @Field(() => String, { nullable: true }) medium!: string | null;
  @Field(() => Float) revenue!: number;
  @Field(() => Int) orders!: number;
  @Field(() => Float, {
    description:
      "Percent of the people who arrived through this channel in the range (an event carrying it) who bought through it: a purchase credited to it, by its own channel or, when it carries none, by the channel of the latest event with one of the same person or the same sessionId in the 24 hours before. A purchase credited through another person's event of its session counts as a conversion only if its buyer arrived through the channel too.",
  })
  conversionRate!: number;
}

@ObjectType()
export class ChannelBreakdown extends Report {
  @Field(() => [ChannelRevenue]) channels!: ChannelRevenue[];
  @Field(() => Int) days!: number;
}

@ObjectType()
export class CouponRevenue {
  @Field(() => String) couponCode!: string;
  @Field(() => Float) revenue!: number;
  @Field(() => Int) orders!: number;
  @Field(() => Float) avgDiscount!: number;
}

@ObjectType()
export class CouponBreakdown extends Report {
  @Field(() => [CouponRevenue]) coupons!: CouponRevenue[];
  @Field(() => Int) days!: number;
}

@ObjectType()
export class DeviceRevenue {
  @Field(() => String) deviceType!: string;
  @Field(() => Float) revenue!: number;
  @Field(() => Int) orders!: number;
}

@ObjectType()
export class DeviceBreakdown extends Report {
  @Field(() => [DeviceRevenue]) devices!: DeviceRevenue[];
  @Field(() => Int) days!: number;
}

@ObjectType()
export class PlatformRevenue {
  @Field(() => String) platform!: string;
  @Field(() => Float) revenue!: number;
  @Field(() => Int) orders!: number;
}

@ObjectType()
export class PlatformBreakdown extends Report {
  @Field(() => [PlatformRevenue]) platforms!: PlatformRevenue[];
  @Field(() => Int) days!: number;
}

@ObjectType()
export class CountryRevenue {
  @Field(() => String) country!: string;
  @Field(() => Float) revenue!: number;
  @Field(() => Int) orders!: number;
}

@ObjectType()
export class CountryBreakdown extends Report {
  @Field(() => [CountryRevenue]) countries!: CountryRevenue[];
  @Field(() => Int) days!: number;
}

@ObjectType()
export class CartAbandonment extends Report {
  @Field(() => Float, { description: "Percent, 0-100: abandoned / (abandoned + completed)." }) abandonmentRate!: number;
  @Field(() => Int, {
    description: "Carts still holding units at the end of the range, idle for the appspace's cartIdleMinutes.",
  })
  abandonedCarts!: number;
  @Field(() => Float, { description: "Value of what was left in the abandoned carts." }) abandonedRevenue!: number;
  @Field(() => Int, {
    description:
      "Carts a purchase completed: one carrying the cartId, or one without a cartId by the cart's person, which completes their most recent open cart only. An emptied cart is neither completed nor abandoned.",
  })
  completedCarts!: number;
  @Field(() => Int, {
    description:
      "Carts neither completed nor emptied whose last add came less than the appspace's cartIdleMinutes (default 60) before the end of the range, or before now if that is earlier: not abandoned yet.",
  })
  openCarts!: number;
  @Field(() => Int) days!: number;
}

@ObjectType()
export class CohortMonth {
  @Field(() => Int, { description: "Months after the cohort's first purchase; 0 is the acquisition month." })
  monthOffset!: number;
  @Field(() => Float) revenue!: number;
}

@ObjectType()
export class Cohort {
  @Field(() => String, { description: "YYYY-MM of the first purchase." }) month!: string;
  @Field(() => Int) users!: number;
  @Field(() => [CohortMonth]) revenueByMonth!: CohortMonth[];
}

@ObjectType()
export class Cohorts extends Report {
  @Field(() => [Cohort]) cohorts!: Cohort[];
  @Field(() => Float) avgLtv!: number;
  @Field(() => Int) totalPurchasingUsers!: number;
}

@ObjectType({
  description:
    "One group of purchases; only the dimensions asked for are set (null also where purchases carried no value).",
})
export class BreakdownRow {
  @Field(() => String, { nullable: true }) campaign?: string | null;
  @Field(() => String, { nullable: true }) source?: string | null;
  @Field(() => String, { nullable: true }) medium?: string | null;
  @Field(() => String, { nullable: true }) couponCode?: string | null;
  @Field(() => String, { nullable: true }) deviceType?: string | null;
  @Field(() => String, { nullable: true }) platform?: string | null;
  @Field(() => String, { nullable: true }) country?: string | null;
  @Field(() => String, { nullable: true }) category?: string | null;
  @Field(() => String, { nullable: true }) brand?: string | null;
  @Field(() => String, { nullable: true }) merchantId?: string | null;
  @Field(() => Float) revenue!: number;
  @Field(() => Int) orders!: number;
  @Field(() => Int, { description: "Units sold." }) items!: number;
}

@ObjectType()
export class RevenueBreakdown extends Report {
  @Field(() => [BreakdownDimension]) by!: BreakdownDimension[];
  @Field(() => [BreakdownRow]) rows!: BreakdownRow[];
  @Field(() => Int) days!: number;
}
