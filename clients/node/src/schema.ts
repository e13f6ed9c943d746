export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** Calendar date, YYYY-MM-DD (UTC). */
  Date: { input: string; output: string; }
  /** ISO-8601 timestamp. Output: UTC, e.g. 2026-01-15T10:30:00.000Z. Input also accepts a Unix epoch in seconds or milliseconds (number or numeric string). */
  DateTime: { input: string | number; output: string; }
};

export type AttributedChannel = {
  campaign?: Maybe<Scalars['String']['output']>;
  medium?: Maybe<Scalars['String']['output']>;
  /** Order credit; fractional under LINEAR and TIME_DECAY. */
  orders: Scalars['Float']['output'];
  pctOfTotal: Scalars['Float']['output'];
  revenue: Scalars['Float']['output'];
  source?: Maybe<Scalars['String']['output']>;
};

export type Attribution = {
  attributed: Array<AttributedChannel>;
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  model: AttributionModel;
  unattributed: UnattributedRevenue;
  windowDays: Scalars['Int']['output'];
};

export type AttributionModel =
  | 'LAST_CLICK'
  | 'LINEAR'
  | 'TIME_DECAY';

/** What to group purchases by. CATEGORY, BRAND and MERCHANT are properties of the lines, so with any of them revenue and items count the matching lines only. */
export type BreakdownDimension =
  | 'BRAND'
  | 'CAMPAIGN'
  | 'CATEGORY'
  | 'COUNTRY'
  | 'COUPON'
  | 'DEVICE'
  | 'MEDIUM'
  | 'MERCHANT'
  | 'PLATFORM'
  | 'SOURCE';

/** One group of purchases; only the dimensions asked for are set (null also where purchases carried no value). */
export type BreakdownRow = {
  brand?: Maybe<Scalars['String']['output']>;
  campaign?: Maybe<Scalars['String']['output']>;
  category?: Maybe<Scalars['String']['output']>;
  country?: Maybe<Scalars['String']['output']>;
  couponCode?: Maybe<Scalars['String']['output']>;
  deviceType?: Maybe<Scalars['String']['output']>;
  /** Units sold. */
  items: Scalars['Int']['output'];
  medium?: Maybe<Scalars['String']['output']>;
  merchantId?: Maybe<Scalars['String']['output']>;
  orders: Scalars['Int']['output'];
  platform?: Maybe<Scalars['String']['output']>;
  revenue: Scalars['Float']['output'];
  source?: Maybe<Scalars['String']['output']>;
};

export type CartAbandonment = {
  /** Carts still holding units at the end of the range, idle for the appspace's cartIdleMinutes. */
  abandonedCarts: Scalars['Int']['output'];
  /** Value of what was left in the abandoned carts. */
  abandonedRevenue: Scalars['Float']['output'];
  /** Percent, 0-100: abandoned / (abandoned + completed). */
  abandonmentRate: Scalars['Float']['output'];
  /** Carts a purchase completed: one carrying the cartId, or one without a cartId by the cart's person, which completes their most recent open cart only. An emptied cart is neither completed nor abandoned. */
  completedCarts: Scalars['Int']['output'];
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  /** Carts neither completed nor emptied whose last add came less than the appspace's cartIdleMinutes (default 60) before the end of the range, or before now if that is earlier: not abandoned yet. */
  openCarts: Scalars['Int']['output'];
};

export type ChannelBreakdown = {
  channels: Array<ChannelRevenue>;
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
};

/** Purchases credited to a channel: their own campaign, source and medium, or when they carry none, those of the latest event with one of the same person or the same sessionId in the 24 hours before. */
export type ChannelRevenue = {
  campaign?: Maybe<Scalars['String']['output']>;
  /** Percent of the people who arrived through this channel in the range (an event carrying it) who bought through it: a purchase credited to it, by its own channel or, when it carries none, by the channel of the latest event with one of the same person or the same sessionId in the 24 hours before. A purchase credited through another person's event of its session counts as a conversion only if its buyer arrived through the channel too. */
  conversionRate: Scalars['Float']['output'];
  medium?: Maybe<Scalars['String']['output']>;
  orders: Scalars['Int']['output'];
  revenue: Scalars['Float']['output'];
  source?: Maybe<Scalars['String']['output']>;
};

export type Cohort = {
  /** YYYY-MM of the first purchase. */
  month: Scalars['String']['output'];
  revenueByMonth: Array<CohortMonth>;
  users: Scalars['Int']['output'];
};

export type CohortMonth = {
  /** Months after the cohort's first purchase; 0 is the acquisition month. */
  monthOffset: Scalars['Int']['output'];
  revenue: Scalars['Float']['output'];
};

export type Cohorts = {
  avgLtv: Scalars['Float']['output'];
  cohorts: Array<Cohort>;
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  totalPurchasingUsers: Scalars['Int']['output'];
};

/** PREVIOUS_PERIOD: the same number of days just before the range. */
export type CompareTo =
  | 'PREVIOUS_PERIOD';

export type ContextInput = {
  city?: InputMaybe<Scalars['String']['input']>;
  /** ISO 3166-1 alpha-2. */
  country?: InputMaybe<Scalars['String']['input']>;
  dataProtection?: InputMaybe<Scalars['Boolean']['input']>;
  deviceType?: InputMaybe<Scalars['String']['input']>;
  /** Used for fraud checks; stored only anonymised, and not at all when dataProtection is true (the default). */
  ip?: InputMaybe<Scalars['String']['input']>;
  locale?: InputMaybe<Scalars['String']['input']>;
  pageUrl?: InputMaybe<Scalars['String']['input']>;
  platform?: InputMaybe<Scalars['String']['input']>;
  referrer?: InputMaybe<Scalars['String']['input']>;
  /** Device type and platform are derived from it when not given. */
  userAgent?: InputMaybe<Scalars['String']['input']>;
};

export type CountryBreakdown = {
  countries: Array<CountryRevenue>;
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
};

export type CountryRevenue = {
  country: Scalars['String']['output'];
  orders: Scalars['Int']['output'];
  revenue: Scalars['Float']['output'];
};

export type CouponBreakdown = {
  coupons: Array<CouponRevenue>;
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
};

export type CouponRevenue = {
  avgDiscount: Scalars['Float']['output'];
  couponCode: Scalars['String']['output'];
  orders: Scalars['Int']['output'];
  revenue: Scalars['Float']['output'];
};

export type DateRange = {
  /** Days back from today, today included. Default 30; clamped to the appspace's retention. */
  days?: InputMaybe<Scalars['Int']['input']>;
  end?: InputMaybe<Scalars['Date']['input']>;
  /** With end: an inclusive range of dates. */
  start?: InputMaybe<Scalars['Date']['input']>;
};

export type DeletionStatus =
  | 'DONE'
  | 'FAILED'
  | 'PENDING'
  | 'RUNNING';

export type DeviceBreakdown = {
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  devices: Array<DeviceRevenue>;
};

export type DeviceRevenue = {
  deviceType: Scalars['String']['output'];
  orders: Scalars['Int']['output'];
  revenue: Scalars['Float']['output'];
};

export type ErrorCount = {
  /** MISSING_FIELD, INVALID_VALUE, TOO_LONG, TOO_MANY. */
  code: Scalars['String']['output'];
  count: Scalars['Int']['output'];
};

export type EventError = {
  /** Stable machine-readable code, e.g. MISSING_FIELD, INVALID_VALUE. */
  code: Scalars['String']['output'];
  /** Position of the event in the batch, from 0. */
  index: Scalars['Int']['output'];
  /** e.g. "events[0]: transactionId is required for PURCHASE events". */
  message: Scalars['String']['output'];
};

export type EventInput = {
  /** Other identifiers the same person was seen under (at most 100); all are linked to userId. */
  aliases?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Device or cookie id the person was seen under before logging in. When an event carries both, anonymousId is linked to userId. */
  anonymousId?: InputMaybe<Scalars['String']['input']>;
  cartId?: InputMaybe<Scalars['String']['input']>;
  context?: InputMaybe<ContextInput>;
  couponCode?: InputMaybe<Scalars['String']['input']>;
  /** ISO 4217 code; default: the appspace's base currency. */
  currency?: InputMaybe<Scalars['String']['input']>;
  discount?: InputMaybe<Scalars['Float']['input']>;
  /** Client-chosen idempotency key: a second event with the same eventId in the same appspace is ignored (accepted, not stored again). */
  eventId?: InputMaybe<Scalars['String']['input']>;
  eventType: EventType;
  /** Required (non-empty) for VIEW_ITEM, ADD_TO_CART, REMOVE_FROM_CART, ADD_TO_WISHLIST. */
  items?: InputMaybe<Array<ItemInput>>;
  /** Free string key/values. campaign, source and medium name the marketing channel; search_term, rating, reason are read where they apply. */
  properties?: InputMaybe<Array<PropertyInput>>;
  /** Order total. Required for PURCHASE, REFUND, SPEND_CREDITS; must be >= 0. */
  revenue?: InputMaybe<Scalars['Float']['input']>;
  sessionId?: InputMaybe<Scalars['String']['input']>;
  shipping?: InputMaybe<Scalars['Float']['input']>;
  tax?: InputMaybe<Scalars['Float']['input']>;
  /** When it happened; default: when it was received. Backfill of history is allowed back to the appspace's retention; more than 1 hour in the future is rejected. */
  timestamp?: InputMaybe<Scalars['DateTime']['input']>;
  /** Order id. Required for PURCHASE, REFUND, CANCEL and FULFILL. A PURCHASE of an order already stored is a duplicate and ignored, however long after it comes (an order counts once). */
  transactionId?: InputMaybe<Scalars['String']['input']>;
  userId?: InputMaybe<Scalars['String']['input']>;
};

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

export type Funnel = {
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  steps: Array<FunnelStep>;
};

export type FunnelStep = {
  /** People who reached this step after every earlier step, in order, within the range. */
  count: Scalars['Int']['output'];
  /** view_item, add_to_cart, view_cart, begin_checkout, add_payment_info, purchase. */
  name: Scalars['String']['output'];
  /** Percent of the previous step; 100 for the first. */
  percentage: Scalars['Float']['output'];
};

/** What became of the events received in the range (by day of receipt, UTC). */
export type IngestionStats = {
  /** Answered ok: stored + flagged + duplicates + blocked. */
  accepted: Scalars['Int']['output'];
  /** Not stored: a fraud rule of severity 2 (answered ok all the same). */
  blocked: Scalars['Int']['output'];
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  /** Not stored again: an eventId already stored, or a PURCHASE of an order already stored. */
  duplicates: Scalars['Int']['output'];
  errors: Array<ErrorCount>;
  /** Stored, flagged by a fraud rule of severity 1. */
  flagged: Scalars['Int']['output'];
  /** Stored events (counted above too) whose identity link a publishable key may not make: an anonymousId or alias that belongs to another userId, or is a userId itself. The event is stored; it links nothing. */
  identityConflicts: Scalars['Int']['output'];
  /** Refused as invalid. */
  rejected: Scalars['Int']['output'];
  rules: Array<RuleCount>;
  /** Stored clean. */
  stored: Scalars['Int']['output'];
};

export type ItemInput = {
  couponCode?: InputMaybe<Scalars['String']['input']>;
  /** Item-level currency; default: the event's currency. */
  currency?: InputMaybe<Scalars['String']['input']>;
  discount?: InputMaybe<Scalars['Float']['input']>;
  itemBrand?: InputMaybe<Scalars['String']['input']>;
  itemCategory?: InputMaybe<Scalars['String']['input']>;
  /** Parent product id of a variant (the same as itemId for simple products). */
  itemGroupId?: InputMaybe<Scalars['String']['input']>;
  itemId: Scalars['String']['input'];
  itemImageUrl?: InputMaybe<Scalars['String']['input']>;
  itemListId?: InputMaybe<Scalars['String']['input']>;
  itemListName?: InputMaybe<Scalars['String']['input']>;
  itemName?: InputMaybe<Scalars['String']['input']>;
  itemVariant?: InputMaybe<Scalars['String']['input']>;
  /** Marketplace seller of this line. */
  merchantId?: InputMaybe<Scalars['String']['input']>;
  /** Unit price. */
  price?: InputMaybe<Scalars['Float']['input']>;
  quantity?: InputMaybe<Scalars['Int']['input']>;
};

export type JourneyEvent = {
  eventType: EventType;
  /** Batched through a per-request DataLoader. */
  items: Array<JourneyItem>;
  revenue?: Maybe<Scalars['Float']['output']>;
  timestamp: Scalars['DateTime']['output'];
  transactionId?: Maybe<Scalars['String']['output']>;
};

export type JourneyItem = {
  itemId: Scalars['String']['output'];
  itemName?: Maybe<Scalars['String']['output']>;
  price?: Maybe<Scalars['Float']['output']>;
  product?: Maybe<Product>;
  quantity: Scalars['Int']['output'];
};

export type Mutation = {
  /** Scope people:delete. Deletes every event and identity of the user and of every identifier linked to it. */
  deleteUser: UserDeletion;
  /** Scope ingest: any publishable key, or a secret key with ingest or admin. */
  trackEvent: TrackResult;
  /** 1 to 100 events; invalid ones are skipped and listed in errors. */
  trackEvents: TrackBatchResult;
};


export type MutationDeleteUserArgs = {
  dryRun?: InputMaybe<Scalars['Boolean']['input']>;
  userId: Scalars['String']['input'];
};


export type MutationTrackEventArgs = {
  event: EventInput;
};


export type MutationTrackEventsArgs = {
  events: Array<EventInput>;
};

export type Overview = {
  /** Percent of people who viewed an item and added one to a cart. */
  addToCartRate: Scalars['Float']['output'];
  /** Mean hours (one decimal) from the purchase of each of fulfilledOrders to its first FULFILL in the range; 0 when none. */
  avgHoursToFulfil: Scalars['Float']['output'];
  avgOrderValue: Scalars['Float']['output'];
  /** Percent, 0-100. */
  cartAbandonmentRate: Scalars['Float']['output'];
  currency: Scalars['String']['output'];
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  /** Last day of the range, after clamping. */
  end: Scalars['Date']['output'];
  /** Orders with a FULFILL event in the range, counted once however many partial fulfilments they had. */
  fulfilledOrders: Scalars['Int']['output'];
  /** totalRevenue minus refunds and cancellations. */
  netRevenue: Scalars['Float']['output'];
  /** The same figures for the period asked with compareTo; null without it. */
  previous?: Maybe<Overview>;
  refundAmount: Scalars['Float']['output'];
  /** First day of the range, after clamping. */
  start: Scalars['Date']['output'];
  totalItemsSold: Scalars['Int']['output'];
  totalOrders: Scalars['Int']['output'];
  totalRefunds: Scalars['Int']['output'];
  totalRevenue: Scalars['Float']['output'];
};

export type PlatformBreakdown = {
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  platforms: Array<PlatformRevenue>;
};

export type PlatformRevenue = {
  orders: Scalars['Int']['output'];
  platform: Scalars['String']['output'];
  revenue: Scalars['Float']['output'];
};

/** A product as last described by the events that mention it. */
export type Product = {
  brand?: Maybe<Scalars['String']['output']>;
  category?: Maybe<Scalars['String']['output']>;
  groupId?: Maybe<Scalars['String']['output']>;
  imageUrl?: Maybe<Scalars['String']['output']>;
  itemId: Scalars['String']['output'];
  lastSeenAt?: Maybe<Scalars['DateTime']['output']>;
  name?: Maybe<Scalars['String']['output']>;
  variant?: Maybe<Scalars['String']['output']>;
};

export type PropertyInput = {
  key: Scalars['String']['input'];
  value: Scalars['String']['input'];
};

export type Query = {
  /** Purchase revenue credited to the channels that led to it. Several models over one range share one read. */
  attribution: Attribution;
  cartAbandonment: CartAbandonment;
  /** Monthly cohorts by first purchase, newest first. */
  cohorts: Cohorts;
  funnel: Funnel;
  /** Accepted, duplicate, flagged, blocked and rejected events, by fraud rule and error code. */
  ingestionStats: IngestionStats;
  overview: Overview;
  /** Purchases grouped by any combination of dimensions, revenue descending. */
  revenueBreakdown: RevenueBreakdown;
  revenueByChannel: ChannelBreakdown;
  revenueByCountry: CountryBreakdown;
  revenueByCoupon: CouponBreakdown;
  revenueByDevice: DeviceBreakdown;
  revenueByPlatform: PlatformBreakdown;
  revenueTimeseries: RevenueTimeseries;
  topProducts: TopProducts;
  /** A deletion request of this appspace by id; null when there is none. */
  userDeletion?: Maybe<UserDeletion>;
  userJourney: UserJourney;
};


export type QueryAttributionArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  model?: InputMaybe<AttributionModel>;
  range?: InputMaybe<DateRange>;
  window?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryCartAbandonmentArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryCohortsArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  months?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryFunnelArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryIngestionStatsArgs = {
  range?: InputMaybe<DateRange>;
};


export type QueryOverviewArgs = {
  compareTo?: InputMaybe<CompareTo>;
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryRevenueBreakdownArgs = {
  by: Array<BreakdownDimension>;
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryRevenueByChannelArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryRevenueByCountryArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryRevenueByCouponArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryRevenueByDeviceArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryRevenueByPlatformArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryRevenueTimeseriesArgs = {
  compareTo?: InputMaybe<CompareTo>;
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryTopProductsArgs = {
  includeFlagged?: InputMaybe<Scalars['Boolean']['input']>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  range?: InputMaybe<DateRange>;
};


export type QueryUserDeletionArgs = {
  id: Scalars['ID']['input'];
};


export type QueryUserJourneyArgs = {
  limit?: InputMaybe<Scalars['Int']['input']>;
  userId: Scalars['String']['input'];
};

export type RevenueBreakdown = {
  by: Array<BreakdownDimension>;
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  rows: Array<BreakdownRow>;
};

export type RevenuePoint = {
  date: Scalars['Date']['output'];
  orders: Scalars['Int']['output'];
  revenue: Scalars['Float']['output'];
};

export type RevenueTimeseries = {
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  /** The series of the period asked with compareTo, day for day; null without it. */
  previous?: Maybe<RevenueTimeseries>;
  /** One point per day of the range, days without orders included. */
  series: Array<RevenuePoint>;
};

export type RuleCount = {
  blocked: Scalars['Int']['output'];
  flagged: Scalars['Int']['output'];
  /** bot, max_order_value, items_mismatch, velocity or currency. */
  rule: Scalars['String']['output'];
};

export type TopProduct = {
  itemId: Scalars['String']['output'];
  itemName?: Maybe<Scalars['String']['output']>;
  orders: Scalars['Int']['output'];
  /** Catalog details, batched through a per-request DataLoader. */
  product?: Maybe<Product>;
  quantity: Scalars['Int']['output'];
  revenue: Scalars['Float']['output'];
};

export type TopProducts = {
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  days: Scalars['Int']['output'];
  products: Array<TopProduct>;
};

export type TrackBatchResult = {
  /** Events stored or deduplicated; events blocked by fraud rules are also counted, so detection is not revealed. */
  accepted: Scalars['Int']['output'];
  errors: Array<EventError>;
  ok: Scalars['Boolean']['output'];
};

export type TrackResult = {
  ok: Scalars['Boolean']['output'];
};

export type UnattributedRevenue = {
  orders: Scalars['Int']['output'];
  revenue: Scalars['Float']['output'];
};

export type UserDeletion = {
  completedAt?: Maybe<Scalars['DateTime']['output']>;
  deletedUserId: Scalars['String']['output'];
  /** True for deleteUser(dryRun: true): nothing was deleted or recorded. */
  dryRun: Scalars['Boolean']['output'];
  /** Events deleted so far (on a dry run: that would be deleted). */
  eventsDeleted: Scalars['Int']['output'];
  id: Scalars['ID']['output'];
  /** Identifiers (the userId, anonymousIds, aliases) deleted so far (on a dry run: that would be). */
  identifiersDeleted: Scalars['Int']['output'];
  ok: Scalars['Boolean']['output'];
  /** Why a FAILED deletion failed. */
  reason?: Maybe<Scalars['String']['output']>;
  requestedAt: Scalars['DateTime']['output'];
  status: DeletionStatus;
};

export type UserJourney = {
  /** The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read. */
  dataAsOf: Scalars['DateTime']['output'];
  /** Oldest first, across every identifier linked to the user. */
  events: Array<JourneyEvent>;
  /** The userId and every identifier linked to the same person. */
  identifiers: Array<Scalars['String']['output']>;
  userId: Scalars['String']['output'];
};
