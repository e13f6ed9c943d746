import countries from "i18n-iso-countries";
import { Appspace } from "../appspaces/appspace.entity";
import { anonymizeIp, isIpAddress, parseUserAgent } from "./client-context";
import { EventInput, ItemInput } from "./event.input";
import { EventType } from "../events/event-type";
import { convertMinor, isKnownCurrency, toMinor } from "../money";
import { RatesCache } from "./rates/rates.service";
import { oldestKept, oldestKeptMs } from "../days";

export const LIMITS = {
  batch: 100,
  aliases: 100,
  properties: 50,
  items: 200,
  id: 128,
  text: 255,
  propertyKey: 64,
  propertyValue: 1024,
  url: 2048,
  userAgent: 1024,
  /** Largest amount in major units: keeps minor units of any currency within 2^53. */
  amount: 1e12,
  quantity: 1_000_000,
  futureMs: 60 * 60 * 1000,
} as const;

const NEEDS_TRANSACTION = new Set([EventType.PURCHASE, EventType.REFUND, EventType.CANCEL, EventType.FULFILL]);
const NEEDS_REVENUE = new Set([EventType.PURCHASE, EventType.REFUND, EventType.SPEND_CREDITS]);
const NEEDS_ITEMS = new Set([EventType.VIEW_ITEM, EventType.ADD_TO_CART, EventType.REMOVE_FROM_CART, EventType.ADD_TO_WISHLIST]);
const CHANNEL_KEYS = ["campaign", "source", "medium"] as const;

export type ProblemCode = "MISSING_FIELD" | "INVALID_VALUE" | "TOO_LONG" | "TOO_MANY";

/** Why an event was refused: the field and the rule, in words a developer can act on. */
export class Problem {
  constructor(readonly code: ProblemCode, readonly field: string, readonly message: string) {}
}

export interface Amount {
  /** Minor units of the appspace's base currency. */
  base: number;
  /** Minor units of the currency it was sent in. */
  original: number;
}

export interface NormalizedItem {
  itemId: string;
  itemName: string | null;
  itemCategory: string | null;
  itemBrand: string | null;
  itemVariant: string | null;
  itemGroupId: string | null;
  itemListName: string | null;
  itemListId: string | null;
  itemImageUrl: string | null;
  quantity: number;
  price: Amount | null;
  discount: Amount | null;
  currency: string;
  fxRate: string;
  couponCode: string | null;
  merchantId: string | null;
}

export interface NormalizedEvent {
  eventType: EventType;
  eventId: string | null;
  occurredAt: Date;
  /** When the request that sent it came: its day is the day of receipt the ingestion stats count it on. */
  receivedAt: Date;
  transactionId: string | null;
  userId: string | null;
  anonymousId: string | null;
  aliases: string[];
  sessionId: string | null;
  cartId: string | null;
  couponCode: string | null;
  revenue: Amount | null;
  discount: Amount | null;
  shipping: Amount | null;
  tax: Amount | null;
  currency: string;
  fxRate: string;
  fxRateDate: string | null;
  channel: { campaign: string | null; source: string | null; medium: string | null };
  properties: [string, string][];
  items: NormalizedItem[];
  deviceType: string | null;
  platform: string | null;
  browser: string | null;
  country: string | null;
  city: string | null;
  locale: string | null;
  pageUrl: string | null;
  referrer: string | null;
  userAgent: string | null;
  ipAnon: string | null;
  /** The sender's IP, for fraud checks while the request lasts; never stored. */
  ip: string | null;
  /** Fraud rules that flagged the event (set by the fraud checks); null for a clean event. */
  flags: string | null;
  /** Sent with a secret key: its links may join two userIds (admitLinks). */
  linksUserIds: boolean;
}

/** Throws a Problem; validation stops at the first one, as the error list names one per event. */
function fail(code: ProblemCode, field: string, message: string): never {
  throw new Problem(code, field, message);
}

function text(field: string, value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (value.trim() === "") fail("INVALID_VALUE", field, `${field} must not be empty`);
  if (!value.isWellFormed()) fail("INVALID_VALUE", field, `${field} must be valid UTF-8 text`);
  if (value.length > max) fail("TOO_LONG", field, `${field} must be at most ${max} characters`);
  return value;
}

function currencyCode(field: string, value: string | null | undefined, fallback: string, rates: RatesCache): string {
  if (value === undefined || value === null) return fallback;
  const code = value.trim().toUpperCase();
  if (!isKnownCurrency(code)) fail("INVALID_VALUE", field, `${field} must be an ISO 4217 currency code, got ${JSON.stringify(value.slice(0, 16))}`);
  if (!rates.has(code)) fail("INVALID_VALUE", field, `${field} ${code} has no exchange rate on this server`);
  return code;
}

function amount(field: string, value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isFinite(value)) fail("INVALID_VALUE", field, `${field} must be a finite number`);
  if (value < 0) fail("INVALID_VALUE", field, `${field} must be >= 0`);
  if (value > LIMITS.amount) fail("INVALID_VALUE", field, `${field} must be at most ${LIMITS.amount}`);
  return value;
}

interface Conversion {
  currency: string;
  base: string;
  rate: string;
}

function money(field: string, value: number | null | undefined, fx: Conversion): Amount | null {
  const major = amount(field, value);
  if (major === null) return null;
  const original = toMinor(major, fx.currency);
  return { original, base: convertMinor(original, fx.currency, fx.base, fx.rate) };
}

function timestamp(value: Date | undefined, appspace: Appspace, now: Date): Date {
  if (!value) return now;
  if (value.getTime() > now.getTime() + LIMITS.futureMs) fail("INVALID_VALUE", "timestamp", "timestamp must not be more than 1 hour in the future");
  if (value.getTime() < oldestKeptMs(appspace.retentionDays, now)) {
    fail("INVALID_VALUE", "timestamp", `timestamp is older than the appspace's retention of ${appspace.retentionDays} days (it keeps events from ${oldestKept(appspace.retentionDays, now)})`);
  }
  return value;
}

const itemField = (index: number, name: string) => `items[${index}].${name}`;

type ItemText = "itemName" | "itemCategory" | "itemBrand" | "itemVariant" | "itemGroupId" | "itemListName" | "itemListId" | "itemImageUrl" | "couponCode" | "merchantId";

/** An optional text field of an item; its path is built only for a value that is there (most are not). */
function itemText(input: ItemInput, index: number, name: ItemText, max: number): string | null {
  const value = input[name];
  return value === undefined || value === null ? null : text(itemField(index, name), value, max);
}

function item(index: number, input: ItemInput, occurredAt: Date, eventCurrency: string, appspace: Appspace, rates: RatesCache): NormalizedItem {
  const itemId = text(itemField(index, "itemId"), input.itemId, LIMITS.id);
  if (itemId === null) fail("MISSING_FIELD", itemField(index, "itemId"), `${itemField(index, "itemId")} is required`);
  const quantity = input.quantity ?? 1;
  if (!Number.isInteger(quantity) || quantity < 1) fail("INVALID_VALUE", itemField(index, "quantity"), `${itemField(index, "quantity")} must be a whole number of at least 1`);
  if (quantity > LIMITS.quantity) fail("INVALID_VALUE", itemField(index, "quantity"), `${itemField(index, "quantity")} must be at most ${LIMITS.quantity}`);
  const currency = currencyCode(itemField(index, "currency"), input.currency, eventCurrency, rates);
  const fx = { currency, base: appspace.baseCurrency, rate: rates.rate(currency, appspace.baseCurrency, occurredAt).rate };
  return {
    itemId,
    itemName: itemText(input, index, "itemName", LIMITS.text),
    itemCategory: itemText(input, index, "itemCategory", LIMITS.text),
    itemBrand: itemText(input, index, "itemBrand", LIMITS.text),
    itemVariant: itemText(input, index, "itemVariant", LIMITS.text),
    itemGroupId: itemText(input, index, "itemGroupId", LIMITS.id),
    itemListName: itemText(input, index, "itemListName", LIMITS.text),
    itemListId: itemText(input, index, "itemListId", LIMITS.id),
    itemImageUrl: itemText(input, index, "itemImageUrl", LIMITS.url),
    quantity,
    price: money(itemField(index, "price"), input.price, fx),
    discount: money(itemField(index, "discount"), input.discount, fx),
    currency,
    fxRate: fx.rate,
    couponCode: itemText(input, index, "couponCode", LIMITS.id),
    merchantId: itemText(input, index, "merchantId", LIMITS.id),
  };
}

function properties(input: EventInput): [string, string][] {
  const list = input.properties ?? [];
  if (list.length > LIMITS.properties) fail("TOO_MANY", "properties", `properties: at most ${LIMITS.properties} are allowed`);
  const seen = new Set<string>();
  return list.map(({ key, value }) => {
    const k = text("properties.key", key, LIMITS.propertyKey)!;
    if (seen.has(k)) fail("INVALID_VALUE", "properties", `properties: key ${JSON.stringify(k)} appears more than once`);
    seen.add(k);
    const max = (CHANNEL_KEYS as readonly string[]).includes(k) ? LIMITS.text : LIMITS.propertyValue;
    if (!value.isWellFormed()) fail("INVALID_VALUE", `properties.${k}`, `properties.${k} must be valid UTF-8 text`);
    if (value.length > max) fail("TOO_LONG", `properties.${k}`, `properties.${k} must be at most ${max} characters`);
    return [k, value];
  });
}

/**
 * Checks one event against the contract and the appspace's rules and returns it
 * ready to store (money in minor units, converted to the base currency), or throws a Problem.
 */
export function normalizeEvent(input: EventInput, appspace: Appspace, rates: RatesCache, now: Date): NormalizedEvent {
  const type = input.eventType;
  const transactionId = text("transactionId", input.transactionId, LIMITS.id);
  if (NEEDS_TRANSACTION.has(type) && transactionId === null) fail("MISSING_FIELD", "transactionId", `transactionId is required for ${type} events`);
  if (NEEDS_REVENUE.has(type) && (input.revenue === undefined || input.revenue === null)) fail("MISSING_FIELD", "revenue", `revenue is required for ${type} events`);
  if (NEEDS_ITEMS.has(type) && !input.items?.length) fail("MISSING_FIELD", "items", `items is required for ${type} events and must not be empty`);

  const eventId = text("eventId", input.eventId, LIMITS.id);
  const occurredAt = timestamp(input.timestamp, appspace, now);
  const userId = text("userId", input.userId, LIMITS.id);
  const anonymousId = text("anonymousId", input.anonymousId, LIMITS.id);
  const aliases = input.aliases ?? [];
  if (aliases.length > LIMITS.aliases) fail("TOO_MANY", "aliases", `aliases: at most ${LIMITS.aliases} are allowed`);
  if (aliases.length && userId === null) fail("MISSING_FIELD", "userId", "userId is required when aliases are given");
  aliases.forEach((a, i) => text(`aliases[${i}]`, a, LIMITS.id));

  const currency = currencyCode("currency", input.currency, appspace.baseCurrency, rates);
  const applied = rates.rate(currency, appspace.baseCurrency, occurredAt);
  const fx = { currency, base: appspace.baseCurrency, rate: applied.rate };

  const items = input.items ?? [];
  if (items.length > LIMITS.items) fail("TOO_MANY", "items", `items: at most ${LIMITS.items} are allowed`);
  const props = properties(input);
  const prop = (key: string) => props.find(p => p[0] === key)?.[1] ?? null;

  const ctx = input.context ?? {};
  const userAgent = text("context.userAgent", ctx.userAgent, LIMITS.userAgent);
  const device = userAgent ? parseUserAgent(userAgent) : { deviceType: null, platform: null, browser: null };
  const ip = text("context.ip", ctx.ip, 64);
  if (ip !== null && !isIpAddress(ip.trim())) fail("INVALID_VALUE", "context.ip", "context.ip must be an IPv4 or IPv6 address");
  const country = text("context.country", ctx.country, 2);
  if (country !== null && !(/^[A-Za-z]{2}$/.test(country) && countries.isValid(country.toUpperCase()))) {
    fail("INVALID_VALUE", "context.country", `context.country must be an ISO 3166-1 alpha-2 code, got ${JSON.stringify(country)}`);
  }
  let locale = text("context.locale", ctx.locale, 35);
  if (locale !== null) {
    try {
      locale = Intl.getCanonicalLocales(locale)[0];
    } catch {
      fail("INVALID_VALUE", "context.locale", `context.locale must be a BCP 47 language tag such as en-US, got ${JSON.stringify(locale)}`);
    }
  }
  const deviceType = text("context.deviceType", ctx.deviceType, 32)?.toLowerCase() ?? device.deviceType;
  const platform = text("context.platform", ctx.platform, 32)?.toLowerCase() ?? device.platform;

  return {
    eventType: type,
    eventId,
    occurredAt,
    receivedAt: now,
    transactionId,
    userId,
    anonymousId,
    aliases: [...new Set(aliases)].filter(a => a !== userId),
    sessionId: text("sessionId", input.sessionId, LIMITS.id),
    cartId: text("cartId", input.cartId, LIMITS.id),
    couponCode: text("couponCode", input.couponCode, LIMITS.id),
    revenue: money("revenue", input.revenue, fx),
    discount: money("discount", input.discount, fx),
    shipping: money("shipping", input.shipping, fx),
    tax: money("tax", input.tax, fx),
    currency,
    fxRate: applied.rate,
    fxRateDate: applied.rateDate,
    channel: { campaign: prop("campaign"), source: prop("source"), medium: prop("medium") },
    properties: props,
    items: items.map((it, i) => item(i, it, occurredAt, currency, appspace, rates)),
    deviceType,
    platform,
    browser: device.browser,
    country: country?.toUpperCase() ?? null,
    city: text("context.city", ctx.city, 128),
    locale,
    pageUrl: text("context.pageUrl", ctx.pageUrl, LIMITS.url),
    referrer: text("context.referrer", ctx.referrer, LIMITS.url),
    userAgent,
    ipAnon: ip !== null && ctx.dataProtection === false ? anonymizeIp(ip.trim()) : null,
    ip: ip?.trim() ?? null,
    flags: null,
    linksUserIds: false,
  };
}
