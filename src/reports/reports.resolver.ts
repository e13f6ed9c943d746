import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root, UseMiddleware } from "type-graphql";
import { NeedsScope } from "../appspaces/auth-checker";
import { ProductView } from "../catalog/product.type";
import { Context } from "../context";
import { StampDataAsOf } from "../data-as-of";
import { BreakdownDimension } from "./sales/breakdown.service";
import { cohorts, MAX_COHORT_MONTHS } from "./cohorts/cohorts.service";
import { CompareTo, DateRange, IncludeFlaggedArg } from "./range";
import {
  CartAbandonment,
  ChannelBreakdown,
  Cohorts,
  CountryBreakdown,
  CouponBreakdown,
  DeviceBreakdown,
  Funnel,
  Overview,
  PlatformBreakdown,
  RevenueBreakdown,
  RevenueTimeseries,
  TopProduct,
  TopProducts,
} from "./report.types";
import * as reports from "./reports.service";

const RangeArg = () => Arg("range", () => DateRange, { nullable: true });
const CompareArg = () =>
  Arg("compareTo", () => CompareTo, {
    nullable: true,
    description: "Also compute the previous period, returned in `previous`.",
  });

/** The revenue reports; each reads the caller's appspace only, with a key of the scope reports:read (or admin). */
@Resolver()
export class ReportsResolver {
  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => Overview)
  overview(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @CompareArg() compareTo: CompareTo | undefined,
    @Ctx() ctx: Context,
  ) {
    return reports.overview(reports.scopeOf(ctx, range, includeFlagged), compareTo);
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => RevenueTimeseries)
  revenueTimeseries(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @CompareArg() compareTo: CompareTo | undefined,
    @Ctx() ctx: Context,
  ) {
    return reports.revenueTimeseries(reports.scopeOf(ctx, range, includeFlagged), compareTo);
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => Funnel)
  funnel(@RangeArg() range: DateRange | undefined, @IncludeFlaggedArg() includeFlagged: boolean, @Ctx() ctx: Context) {
    return reports.funnel(reports.scopeOf(ctx, range, includeFlagged));
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => TopProducts)
  topProducts(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Arg("limit", () => Int, { nullable: true, defaultValue: 20 }) limit: number,
    @Ctx() ctx: Context,
  ) {
    return reports.bestSellers(reports.scopeOf(ctx, range, includeFlagged), limit);
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => RevenueBreakdown, {
    description: "Purchases grouped by any combination of dimensions, revenue descending.",
  })
  revenueBreakdown(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Arg("by", () => [BreakdownDimension]) by: BreakdownDimension[],
    @Arg("limit", () => Int, { nullable: true, defaultValue: 100, description: `At most ${reports.BREAKDOWN_MAX}.` })
    limit: number,
    @Ctx() ctx: Context,
  ) {
    return reports.breakdown(reports.scopeOf(ctx, range, includeFlagged), by, limit);
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => ChannelBreakdown)
  async revenueByChannel(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Ctx() ctx: Context,
  ): Promise<ChannelBreakdown> {
    const scope = reports.scopeOf(ctx, range, includeFlagged);
    return { channels: await reports.revenueByChannel(scope), days: scope.period.days };
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => CouponBreakdown)
  async revenueByCoupon(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Ctx() ctx: Context,
  ): Promise<CouponBreakdown> {
    const scope = reports.scopeOf(ctx, range, includeFlagged);
    return { coupons: await reports.revenueByCoupon(scope), days: scope.period.days };
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => DeviceBreakdown)
  async revenueByDevice(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Ctx() ctx: Context,
  ): Promise<DeviceBreakdown> {
    const scope = reports.scopeOf(ctx, range, includeFlagged);
    const rows = await reports.revenueBy(scope, BreakdownDimension.DEVICE);
    return { devices: rows.map(({ value, ...r }) => ({ deviceType: value, ...r })), days: scope.period.days };
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => PlatformBreakdown)
  async revenueByPlatform(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Ctx() ctx: Context,
  ): Promise<PlatformBreakdown> {
    const scope = reports.scopeOf(ctx, range, includeFlagged);
    const rows = await reports.revenueBy(scope, BreakdownDimension.PLATFORM);
    return { platforms: rows.map(({ value, ...r }) => ({ platform: value, ...r })), days: scope.period.days };
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => CountryBreakdown)
  async revenueByCountry(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Ctx() ctx: Context,
  ): Promise<CountryBreakdown> {
    const scope = reports.scopeOf(ctx, range, includeFlagged);
    const rows = await reports.revenueBy(scope, BreakdownDimension.COUNTRY);
    return { countries: rows.map(({ value, ...r }) => ({ country: value, ...r })), days: scope.period.days };
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => Cohorts, { description: "Monthly cohorts by first purchase, newest first." })
  cohorts(
    @Arg("months", () => Int, { nullable: true, defaultValue: 6, description: `1 to ${MAX_COHORT_MONTHS}.` })
    months: number,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Ctx() ctx: Context,
  ) {
    return cohorts(ctx.db, ctx.appspace!, months, ctx.services.now(), includeFlagged, ctx.services.reportsFromRollups);
  }

  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => CartAbandonment)
  cartAbandonment(
    @RangeArg() range: DateRange | undefined,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Ctx() ctx: Context,
  ) {
    return reports.cartAbandonment(reports.scopeOf(ctx, range, includeFlagged));
  }
}

@Resolver(() => TopProduct)
export class TopProductResolver {
  @FieldResolver(() => ProductView, { nullable: true })
  product(@Root() top: TopProduct, @Ctx() ctx: Context) {
    return ctx.loaders.product.load(top.itemId);
  }
}
