import { Appspace } from "../appspaces/appspace.entity";
import { Context } from "../context";
import { BadUserInputError } from "../errors";
import { BreakdownDimension, revenueBreakdown } from "./sales/breakdown.service";
import { channelReach } from "./channels/reach";
import { cartTotals } from "./carts/cart-abandonment.service";
import { funnelCounts } from "./funnel/funnel.service";
import { CompareTo, DateRange, resolveRange } from "./range";
import { Period, previousPeriod } from "../days";
import {
  BreakdownRow,
  CartAbandonment,
  ChannelRevenue,
  CouponRevenue,
  Funnel,
  Overview,
  RevenueBreakdown,
  RevenueTimeseries,
  TopProducts,
} from "./report.types";
import { dailySales, fulfilmentTotals, refundTotals, salesTotals } from "./sales/revenue.service";
import { money, percent, ReportScope } from "./scope";
import { topProducts } from "./sales/top-products.service";

/** The scope of a report request: the caller's appspace over the checked range. */
export function scopeOf(ctx: Context, range?: DateRange | null, includeFlagged = false): ReportScope {
  const appspace: Appspace = ctx.appspace!;
  // On a replica, what is still open (a cart not yet idle) is judged as of the data read, not later.
  const clock = ctx.services.now();
  const now = ctx.reads.replica === null ? clock : new Date(Math.min(clock.getTime(), ctx.reads.dataAsOf.getTime()));
  return {
    db: ctx.db,
    appspace,
    period: resolveRange(appspace, range, now),
    includeFlagged,
    rollups: ctx.services.reportsFromRollups,
    now,
  };
}

const withPeriod = (scope: ReportScope, period: Period): ReportScope => ({ ...scope, period });

export async function overview(scope: ReportScope, compareTo?: CompareTo | null): Promise<Overview> {
  const [sales, refunds, funnel, carts, fulfilled] = await Promise.all([
    salesTotals(scope),
    refundTotals(scope),
    funnelCounts(scope, 2),
    cartTotals(scope),
    fulfilmentTotals(scope),
  ]);
  const [viewed, added] = funnel;
  return {
    totalRevenue: money(scope, sales.revenue),
    netRevenue: money(scope, sales.revenue - refunds.amount),
    totalOrders: sales.orders,
    totalRefunds: refunds.count,
    refundAmount: money(scope, refunds.amount),
    // Half-up to the minor unit: exact, since a quotient ending in .5 is representable.
    avgOrderValue: sales.orders === 0 ? 0 : money(scope, Math.round(sales.revenue / sales.orders)),
    totalItemsSold: sales.itemsSold,
    fulfilledOrders: fulfilled.orders,
    avgHoursToFulfil: fulfilled.avgHours,
    cartAbandonmentRate: carts.abandonmentRate,
    addToCartRate: percent(added.count, viewed.count),
    currency: scope.appspace.baseCurrency,
    days: scope.period.days,
    start: scope.period.start,
    end: scope.period.end,
    previous:
      compareTo === CompareTo.PREVIOUS_PERIOD ? await overview(withPeriod(scope, previousPeriod(scope.period))) : null,
  };
}

export async function revenueTimeseries(scope: ReportScope, compareTo?: CompareTo | null): Promise<RevenueTimeseries> {
  const series = (await dailySales(scope)).map(d => ({
    date: d.date,
    orders: d.orders,
    revenue: money(scope, d.revenue),
  }));
  return {
    series,
    days: scope.period.days,
    previous:
      compareTo === CompareTo.PREVIOUS_PERIOD
        ? await revenueTimeseries(withPeriod(scope, previousPeriod(scope.period)))
        : null,
  };
}

export async function funnel(scope: ReportScope): Promise<Funnel> {
  return { steps: await funnelCounts(scope), days: scope.period.days };
}

export const TOP_PRODUCTS_MAX = 100;

export async function bestSellers(scope: ReportScope, limit: number): Promise<TopProducts> {
  if (!Number.isInteger(limit) || limit < 1 || limit > TOP_PRODUCTS_MAX) {
    throw new BadUserInputError(`limit must be between 1 and ${TOP_PRODUCTS_MAX}; got ${limit}`, { field: "limit" });
  }
  const products = await topProducts(scope, limit);
  return { products: products.map(p => ({ ...p, revenue: money(scope, p.revenue) })), days: scope.period.days };
}

export const BREAKDOWN_MAX = 1000;

const ROW_FIELDS: Record<BreakdownDimension, keyof BreakdownRow> = {
  CAMPAIGN: "campaign",
  SOURCE: "source",
  MEDIUM: "medium",
  COUPON: "couponCode",
  DEVICE: "deviceType",
  PLATFORM: "platform",
  COUNTRY: "country",
  CATEGORY: "category",
  BRAND: "brand",
  MERCHANT: "merchantId",
};

export async function breakdown(
  scope: ReportScope,
  by: BreakdownDimension[],
  limit: number,
): Promise<RevenueBreakdown> {
  if (by.length === 0) throw new BadUserInputError("by must name at least one dimension", { field: "by" });
  if (new Set(by).size !== by.length) throw new BadUserInputError("by must not repeat a dimension", { field: "by" });
  if (!Number.isInteger(limit) || limit < 1 || limit > BREAKDOWN_MAX) {
    throw new BadUserInputError(`limit must be between 1 and ${BREAKDOWN_MAX}; got ${limit}`, { field: "limit" });
  }
  const rows = await revenueBreakdown(scope, by, limit);
  return {
    by,
    rows: rows.map(r => {
      const row: BreakdownRow = { revenue: money(scope, r.revenue), orders: r.orders, items: r.items };
      by.forEach((d, n) => Object.assign(row, { [ROW_FIELDS[d]]: r.values[n] }));
      return row;
    }),
    days: scope.period.days,
  };
}

export async function revenueByChannel(scope: ReportScope): Promise<ChannelRevenue[]> {
  const [rows, reach] = await Promise.all([
    revenueBreakdown(scope, [BreakdownDimension.CAMPAIGN, BreakdownDimension.SOURCE, BreakdownDimension.MEDIUM], null),
    channelReach(scope),
  ]);
  return rows.map(({ values: [campaign, source, medium], revenue, orders }) => {
    const r = reach([campaign, source, medium]);
    return {
      campaign,
      source,
      medium,
      revenue: money(scope, revenue),
      orders,
      conversionRate: r ? percent(r.buyers, r.people) : 0,
    };
  });
}

export async function revenueByCoupon(scope: ReportScope): Promise<CouponRevenue[]> {
  const rows = await revenueBreakdown(scope, [BreakdownDimension.COUPON], null, { having: BreakdownDimension.COUPON });
  return rows.map(({ values: [couponCode], revenue, orders, discount }) => ({
    couponCode: couponCode!,
    revenue: money(scope, revenue),
    orders,
    avgDiscount: money(scope, Math.round(discount / orders)),
  }));
}

/** Purchases by one order-level dimension; purchases without a value fall in "unknown". */
export async function revenueBy(
  scope: ReportScope,
  dimension: BreakdownDimension,
): Promise<{ value: string; revenue: number; orders: number }[]> {
  const rows = await revenueBreakdown(scope, [dimension], null, { missingAs: "unknown" });
  return rows.map(({ values: [value], revenue, orders }) => ({
    value: value!,
    revenue: money(scope, revenue),
    orders,
  }));
}

export async function cartAbandonment(scope: ReportScope): Promise<CartAbandonment> {
  const carts = await cartTotals(scope);
  return {
    abandonmentRate: carts.abandonmentRate,
    abandonedCarts: carts.abandonedCarts,
    abandonedRevenue: money(scope, carts.abandonedValue),
    completedCarts: carts.completedCarts,
    openCarts: carts.openCarts,
    days: scope.period.days,
  };
}
