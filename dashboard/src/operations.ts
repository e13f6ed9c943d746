/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type DateRange = {
  /** Days back from today, today included. Default 30; clamped to the appspace's retention. */
  days?: number | null | undefined;
  end?: string | null | undefined;
  /** With end: an inclusive range of dates. */
  start?: string | null | undefined;
};

export type DeletionStatus =
  | 'DONE'
  | 'FAILED'
  | 'PENDING'
  | 'RUNNING';

export type EventType =
  | 'ADD_PAYMENT_INFO'
  | 'ADD_TO_CART'
  | 'ADD_TO_WISHLIST'
  | 'BEGIN_CHECKOUT'
  /** An order cancelled before fulfilment: transactionId required; revenue optional (defaults to what is left of the order). Counts like a refund. */
  | 'CANCEL'
  /** An order (or part of it) shipped or handed over: transactionId required; items optional (the lines fulfilled, for a partial fulfilment). Counted by overview.fulfilledOrders and avgHoursToFulfil. */
  | 'FULFILL'
  | 'PURCHASE'
  | 'RATE'
  | 'REFUND'
  | 'REMOVE_FROM_CART'
  | 'SEARCH'
  | 'SHARE'
  | 'SPEND_CREDITS'
  | 'VIEW_CART'
  | 'VIEW_ITEM';

export type DashboardQueryVariables = Exact<{
  range: DateRange;
}>;


export type DashboardQuery = { overview: { start: string, end: string, currency: string, dataAsOf: string, totalRevenue: number, netRevenue: number, totalOrders: number, avgOrderValue: number, totalItemsSold: number, cartAbandonmentRate: number, addToCartRate: number, totalRefunds: number, previous: { totalRevenue: number, netRevenue: number, totalOrders: number, avgOrderValue: number, totalItemsSold: number, cartAbandonmentRate: number, addToCartRate: number, totalRefunds: number } | null }, revenueTimeseries: { series: Array<{ date: string, revenue: number, orders: number }>, previous: { series: Array<{ date: string, revenue: number, orders: number }> } | null }, funnel: { steps: Array<{ name: string, count: number, percentage: number }> }, topProducts: { products: Array<{ itemId: string, itemName: string | null, revenue: number, quantity: number, orders: number }> }, channels: { rows: Array<{ source: string | null, medium: string | null, revenue: number, orders: number }> }, devices: { rows: Array<{ deviceType: string | null, revenue: number, orders: number }> }, platforms: { rows: Array<{ platform: string | null, revenue: number, orders: number }> }, countries: { rows: Array<{ country: string | null, revenue: number, orders: number }> }, coupons: { rows: Array<{ couponCode: string | null, revenue: number, orders: number }> }, cartAbandonment: { abandonmentRate: number, abandonedCarts: number, abandonedRevenue: number, completedCarts: number, openCarts: number }, lastClick: { attributed: Array<{ campaign: string | null, source: string | null, medium: string | null, revenue: number, orders: number }>, unattributed: { revenue: number, orders: number } }, linear: { attributed: Array<{ campaign: string | null, source: string | null, medium: string | null, revenue: number, orders: number }>, unattributed: { revenue: number, orders: number } }, timeDecay: { attributed: Array<{ campaign: string | null, source: string | null, medium: string | null, revenue: number, orders: number }>, unattributed: { revenue: number, orders: number } }, cohorts: { avgLtv: number, totalPurchasingUsers: number, cohorts: Array<{ month: string, users: number, revenueByMonth: Array<{ monthOffset: number, revenue: number }> }> }, ingestionStats: { accepted: number, stored: number, duplicates: number, flagged: number, blocked: number, rejected: number, errors: Array<{ code: string, count: number }> } };

export type KpisFragment = { totalRevenue: number, netRevenue: number, totalOrders: number, avgOrderValue: number, totalItemsSold: number, cartAbandonmentRate: number, addToCartRate: number, totalRefunds: number };

export type CreditFragment = { attributed: Array<{ campaign: string | null, source: string | null, medium: string | null, revenue: number, orders: number }>, unattributed: { revenue: number, orders: number } };

export type JourneyQueryVariables = Exact<{
  userId: string;
}>;


export type JourneyQuery = { userJourney: { userId: string, identifiers: Array<string>, events: Array<{ eventType: EventType, timestamp: string, transactionId: string | null, revenue: number | null }> } };

export type DeleteUserMutationVariables = Exact<{
  userId: string;
}>;


export type DeleteUserMutation = { deleteUser: { id: string, status: DeletionStatus } };

export type DeletionQueryVariables = Exact<{
  id: string | number;
}>;


export type DeletionQuery = { userDeletion: { id: string, status: DeletionStatus, eventsDeleted: number, identifiersDeleted: number, completedAt: string | null } | null };
