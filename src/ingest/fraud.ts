import { createHash } from "node:crypto";
import { isbot } from "isbot";
import { Appspace } from "../appspaces/appspace.entity";
import { AppspaceSettings, FraudRule, settingsOf } from "../appspaces/settings";
import { EventType } from "../events/event-type";
import { minorDigits } from "../money";
import { Limits } from "../limits/limits";
import { NormalizedEvent } from "./validate";

export interface Verdict {
  /** Rules with severity 1 the event tripped: it is stored, flagged. */
  flagged: FraudRule[];
  /** The first rule with severity 2 it tripped: it is not stored. */
  blockedBy: FraudRule | null;
}

const MINUTE_S = 60;

/**
 * The fraud rules checked at ingest. Velocity counts purchases per person and per IP over a minute (Limits: in
 * Redis, shared by every server process, or in this process's memory).
 */
export class FraudChecks {
  constructor(private readonly limits: Limits) {}

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
    // Hashed: the counters' keys (in Redis too) hold no identifier of a person or an address.
    const hash = (value: string | null) => value && createHash("sha256").update(value).digest("hex");
    const keys = [hash(e.userId ?? e.anonymousId), hash(e.ip)];
    let over = false;
    for (const [kind, key] of [["person", keys[0]], ["ip", keys[1]]] as const) {
      if (!key) continue;
      const taken = await this.limits.take("velocity", settings.purchasesPerMinute, MINUTE_S, `${appspaceId}:${kind}:${key}`);
      if (!taken.allowed) over = true;
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
