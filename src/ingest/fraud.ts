import { createHash } from "node:crypto";
import { isbot } from "isbot";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { Appspace } from "../appspaces/appspace.entity";
import { AppspaceSettings, FraudRule, settingsOf } from "../appspaces/settings";
import { EventType } from "../events/event-type";
import { minorDigits } from "../money";
import { NormalizedEvent } from "./validate";

export interface Verdict {
  /** Rules with severity 1 the event tripped: it is stored, flagged. */
  flagged: FraudRule[];
  /** The first rule with severity 2 it tripped: it is not stored. */
  blockedBy: FraudRule | null;
}

const MINUTE_S = 60;

/**
 * The fraud rules checked at ingest. Velocity counts purchases per person and per
 * IP over a sliding minute in this process's memory (rate-limiter-flexible).
 */
export class FraudChecks {
  private readonly velocity = new Map<number, RateLimiterMemory>();
  /** Parsed once per appspace object (one per request), not once per event of a batch. */
  private readonly settings = new WeakMap<Appspace, AppspaceSettings>();

  async check(appspace: Appspace, e: NormalizedEvent): Promise<Verdict> {
    let settings = this.settings.get(appspace);
    if (!settings) this.settings.set(appspace, (settings = settingsOf(appspace)));
    const tripped: FraudRule[] = [];
    if (e.userAgent && isbot(e.userAgent)) tripped.push("bot");
    if (e.eventType === EventType.PURCHASE) {
      const revenue = e.revenue?.base ?? 0;
      const unit = 10 ** minorDigits(appspace.baseCurrency);
      if (revenue > settings.maxOrderValue * unit) tripped.push("max_order_value");
      if (itemsMismatch(e, settings, unit)) tripped.push("items_mismatch");
      if (await this.tooFast(appspace.id, e, settings)) tripped.push("velocity");
    }
    const currencies = settings.allowedCurrencies;
    if (currencies && [e.currency, ...e.items.map(i => i.currency)].some(c => !currencies.includes(c))) tripped.push("currency");
    return {
      flagged: tripped.filter(r => settings.severities[r] === 1),
      blockedBy: tripped.find(r => settings.severities[r] === 2) ?? null,
    };
  }

  /** Counts the purchase against its person and its IP; true when either went over the limit this minute. */
  private async tooFast(appspaceId: number, e: NormalizedEvent, settings: AppspaceSettings): Promise<boolean> {
    const points = settings.purchasesPerMinute;
    let limiter = this.velocity.get(points);
    if (!limiter) this.velocity.set(points, (limiter = new RateLimiterMemory({ points, duration: MINUTE_S })));
    const keys = [e.userId ?? e.anonymousId, e.ip && createHash("sha256").update(e.ip).digest("hex")];
    let over = false;
    for (const [kind, key] of [["person", keys[0]], ["ip", keys[1]]] as const) {
      if (!key) continue;
      try {
        await limiter.consume(`${appspaceId}:${kind}:${key}`);
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        over = true;
      }
    }
    return over;
  }
}

/** Revenue further than the tolerance (and more than one major unit) from what its priced items add up to. */
function itemsMismatch(e: NormalizedEvent, settings: AppspaceSettings, unit: number): boolean {
  if (e.items.length === 0 || e.items.some(i => !i.price)) return false;
  const items = e.items.reduce((sum, i) => sum + i.price!.base * i.quantity, 0);
  const expected = items - (e.discount?.base ?? 0) + (e.shipping?.base ?? 0) + (e.tax?.base ?? 0);
  const gap = Math.abs((e.revenue?.base ?? 0) - expected);
  return gap > unit && gap > (Math.abs(expected) * settings.itemsTolerancePercent) / 100;
}
