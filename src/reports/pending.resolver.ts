import { Arg, Authorized, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { Attribution, AttributionModel } from "../attribution/attribution.types";
import { NotImplementedError } from "../errors";
import { UserDeletion, UserJourney } from "../identity/identity.types";
import {
  CartAbandonment, ChannelBreakdown, Cohorts, CountryBreakdown, CouponBreakdown, DateRange, DeviceBreakdown, Funnel, Overview,
  PlatformBreakdown, RevenueTimeseries, TopProducts,
} from "./report.types";

/**
 * The contract's read side, declared so clients and Sandbox see the whole API.
 * Each answers NOT_IMPLEMENTED (after the secret-key check) until its issue lands.
 */
@Resolver()
export class PendingResolver {
  @Authorized("secret") @Query(() => Overview)
  overview(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): Overview {
    throw new NotImplementedError("overview");
  }

  @Authorized("secret") @Query(() => RevenueTimeseries)
  revenueTimeseries(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): RevenueTimeseries {
    throw new NotImplementedError("revenueTimeseries");
  }

  @Authorized("secret") @Query(() => Funnel)
  funnel(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): Funnel {
    throw new NotImplementedError("funnel");
  }

  @Authorized("secret") @Query(() => TopProducts)
  topProducts(
    @Arg("range", () => DateRange, { nullable: true }) _range?: DateRange,
    @Arg("limit", () => Int, { nullable: true, defaultValue: 20 }) _limit?: number,
  ): TopProducts {
    throw new NotImplementedError("topProducts");
  }

  @Authorized("secret") @Query(() => ChannelBreakdown)
  revenueByChannel(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): ChannelBreakdown {
    throw new NotImplementedError("revenueByChannel");
  }

  @Authorized("secret") @Query(() => CouponBreakdown)
  revenueByCoupon(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): CouponBreakdown {
    throw new NotImplementedError("revenueByCoupon");
  }

  @Authorized("secret") @Query(() => DeviceBreakdown)
  revenueByDevice(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): DeviceBreakdown {
    throw new NotImplementedError("revenueByDevice");
  }

  @Authorized("secret") @Query(() => PlatformBreakdown)
  revenueByPlatform(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): PlatformBreakdown {
    throw new NotImplementedError("revenueByPlatform");
  }

  @Authorized("secret") @Query(() => CountryBreakdown)
  revenueByCountry(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): CountryBreakdown {
    throw new NotImplementedError("revenueByCountry");
  }

  @Authorized("secret") @Query(() => CartAbandonment)
  cartAbandonment(@Arg("range", () => DateRange, { nullable: true }) _range?: DateRange): CartAbandonment {
    throw new NotImplementedError("cartAbandonment");
  }

  @Authorized("secret") @Query(() => Attribution)
  attribution(
    @Arg("range", () => DateRange, { nullable: true }) _range?: DateRange,
    @Arg("model", () => AttributionModel, { nullable: true, defaultValue: AttributionModel.LAST_CLICK }) _model?: AttributionModel,
    @Arg("window", () => Int, { nullable: true, defaultValue: 30 }) _window?: number,
  ): Attribution {
    throw new NotImplementedError("attribution");
  }

  @Authorized("secret") @Query(() => Cohorts)
  cohorts(@Arg("months", () => Int, { nullable: true, defaultValue: 6 }) _months?: number): Cohorts {
    throw new NotImplementedError("cohorts");
  }

  @Authorized("secret") @Query(() => UserJourney)
  userJourney(@Arg("userId", () => String) _userId: string): UserJourney {
    throw new NotImplementedError("userJourney");
  }

  @Authorized("secret") @Query(() => UserDeletion, { nullable: true })
  userDeletion(@Arg("id", () => ID) _id: string): UserDeletion | null {
    throw new NotImplementedError("userDeletion");
  }

  @Authorized("secret") @Mutation(() => UserDeletion, { description: "Secret key. Deletes every event and identity of the user and of every identifier linked to it." })
  deleteUser(@Arg("userId", () => String) _userId: string): UserDeletion {
    throw new NotImplementedError("deleteUser");
  }
}
