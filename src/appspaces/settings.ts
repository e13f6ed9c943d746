import { Appspace, Plan } from "./appspace.entity";

export const FRAUD_RULES = ["bot", "max_order_value", "items_mismatch", "velocity", "currency"] as const;
export type FraudRule = (typeof FRAUD_RULES)[number];
/** 1: flagged (stored, left out of revenue reports); 2: blocked (not stored, answered ok all the same). */
export type Severity = 1 | 2;

export interface AppspaceSettings {
  /** A purchase above this (major units of the base currency) trips max_order_value. */
  maxOrderValue: number;
  /** A purchase whose revenue is further than this from its items (price x quantity - discount + shipping + tax) trips items_mismatch. */
  itemsTolerancePercent: number;
  /** More purchases than this in a minute from one person or one IP trip velocity. */
  purchasesPerMinute: number;
  /** When set, events in any other currency trip currency. */
  allowedCurrencies: string[] | null;
  severities: Record<FraudRule, Severity>;
  /** Events a calendar month (UTC) may take in; null for no limit. */
  monthlyEventQuota: number | null;
  /** Requests per API key per rate-limit window (RATE_LIMIT_WINDOW_SECONDS, default a minute). */
  requestLimit: number;
  /** A cart is abandoned once this long without an add at the end of the range (or now): 0 to 1440 minutes. */
  cartIdleMinutes: number;
}

const QUOTA_BY_PLAN: Record<Plan, number | null> = { free: 0, pro: 10_000_000, enterprise: null };

export function defaultSettings(plan: Plan): AppspaceSettings {
  return {
    maxOrderValue: 100_000,
    itemsTolerancePercent: 20,
    purchasesPerMinute: 10,
    allowedCurrencies: null,
    severities: { bot: 2, max_order_value: 1, items_mismatch: 1, velocity: 1, currency: 2 },
    monthlyEventQuota: QUOTA_BY_PLAN[plan],
    requestLimit: 1200,
    cartIdleMinutes: 60,
  };
}

/** The appspace's settings: its stored overrides on top of the defaults of its plan. */
export function settingsOf(appspace: Pick<Appspace, "plan" | "settings">): AppspaceSettings {
  const defaults = defaultSettings(appspace.plan);
  const stored = appspace.settings ? (JSON.parse(appspace.settings) as Partial<AppspaceSettings>) : {};
  return { ...defaults, ...stored, severities: { ...defaults.severities, ...stored.severities } };
}

/** The longest cartIdleMinutes: the days a cart report reads raw for it stay one or two. */
export const MAX_CART_IDLE_MINUTES = 1440;

/** Checks overrides before they are stored; throws with the field and rule. */
export function checkSettings(overrides: Partial<AppspaceSettings>): Partial<AppspaceSettings> {
  const known = new Set(Object.keys(defaultSettings("pro")));
  for (const key of Object.keys(overrides)) if (!known.has(key)) throw new Error(`unknown setting ${key}`);
  const positive = (name: keyof AppspaceSettings, value: unknown, allowNull = false) => {
    if (value === undefined || (allowNull && value === null)) return;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of at least 0`);
  };
  positive("maxOrderValue", overrides.maxOrderValue);
  positive("itemsTolerancePercent", overrides.itemsTolerancePercent);
  positive("purchasesPerMinute", overrides.purchasesPerMinute);
  positive("monthlyEventQuota", overrides.monthlyEventQuota, true);
  positive("requestLimit", overrides.requestLimit);
  positive("cartIdleMinutes", overrides.cartIdleMinutes);
  if (overrides.cartIdleMinutes !== undefined && overrides.cartIdleMinutes > MAX_CART_IDLE_MINUTES) {
    throw new Error(`cartIdleMinutes must be at most ${MAX_CART_IDLE_MINUTES} (a day)`);
  }
  const currencies = overrides.allowedCurrencies;
  if (currencies !== undefined && currencies !== null && (!Array.isArray(currencies) || currencies.some(c => !/^[A-Z]{3}$/.test(c)))) {
    throw new Error("allowedCurrencies must be a list of ISO 4217 codes, or null");
  }
  for (const [rule, severity] of Object.entries(overrides.severities ?? {})) {
    if (!(FRAUD_RULES as readonly string[]).includes(rule)) throw new Error(`unknown fraud rule ${rule}; rules: ${FRAUD_RULES.join(", ")}`);
    if (severity !== 1 && severity !== 2) throw new Error(`severities.${rule} must be 1 (flag) or 2 (block)`);
  }
  return overrides;
}
