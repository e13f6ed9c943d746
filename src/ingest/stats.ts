import { Arg, Ctx, Field, Int, ObjectType, Query, Resolver, UseMiddleware } from "type-graphql";
import { NeedsScope } from "../appspaces/auth-checker";
import { Context } from "../context";
import { Report, StampDataAsOf } from "../data-as-of";
import { toNumber } from "../db/sql";
import { DateRange, resolveRange } from "../reports/range";
import { IDENTITY_CONFLICT } from "./ingest.service";

@ObjectType()
export class RuleCount {
  @Field(() => String, { description: "bot, max_order_value, items_mismatch, velocity or currency." }) rule!: string;
  @Field(() => Int) flagged!: number;
  @Field(() => Int) blocked!: number;
}

@ObjectType()
export class ErrorCount {
  @Field(() => String, { description: "MISSING_FIELD, INVALID_VALUE, TOO_LONG, TOO_MANY." }) code!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: "What became of the events received in the range (by day of receipt, UTC)." })
export class IngestionStats extends Report {
  @Field(() => Int, { description: "Answered ok: stored + flagged + duplicates + blocked." }) accepted!: number;
  @Field(() => Int, { description: "Stored clean." }) stored!: number;
  @Field(() => Int, { description: "Stored, flagged by a fraud rule of severity 1." }) flagged!: number;
  @Field(() => Int, { description: "Not stored again: an eventId already stored, or a PURCHASE of an order already stored." }) duplicates!: number;
  @Field(() => Int, { description: "Not stored: a fraud rule of severity 2 (answered ok all the same)." }) blocked!: number;
  @Field(() => Int, { description: "Refused as invalid." }) rejected!: number;
  @Field(() => Int, {
    description: "Stored events (counted above too) whose identity link a publishable key may not make: an anonymousId or alias that belongs to another userId, or is a userId itself. The event is stored; it links nothing.",
  }) identityConflicts!: number;
  @Field(() => [RuleCount]) rules!: RuleCount[];
  @Field(() => [ErrorCount]) errors!: ErrorCount[];
  @Field(() => Int) days!: number;
}

@Resolver()
export class IngestionStatsResolver {
  @NeedsScope("reports:read") @UseMiddleware(StampDataAsOf) @Query(() => IngestionStats, { description: "Accepted, duplicate, flagged, blocked and rejected events, by fraud rule and error code." })
  async ingestionStats(@Arg("range", () => DateRange, { nullable: true }) range: DateRange | undefined, @Ctx() ctx: Context): Promise<IngestionStats> {
    const period = resolveRange(ctx.appspace!, range, ctx.services.now());
    const rows: { outcome: string; code: string; n: unknown }[] = await ctx.db.query(
      "SELECT outcome, code, SUM(n) AS n FROM ingestion_stats WHERE appspace_id = ? AND day >= ? AND day <= ? GROUP BY outcome, code ORDER BY outcome, code",
      [ctx.appspace!.id, period.start, period.end],
    );
    const total = (outcome: string) => toNumber(rows.find(r => r.outcome === outcome && r.code === "")?.n);
    const rules = new Map<string, RuleCount>();
    for (const r of rows.filter(r => r.code !== "" && (r.outcome === "flagged" || r.outcome === "blocked"))) {
      const count = rules.get(r.code) ?? { rule: r.code, flagged: 0, blocked: 0 };
      count[r.outcome as "flagged" | "blocked"] = toNumber(r.n);
      rules.set(r.code, count);
    }
    const [stored, flagged, duplicates, blocked] = ["stored", "flagged", "duplicate", "blocked"].map(total);
    return {
      accepted: stored + flagged + duplicates + blocked,
      stored, flagged, duplicates, blocked,
      rejected: total("rejected"),
      identityConflicts: total(IDENTITY_CONFLICT),
      rules: [...rules.values()],
      errors: rows.filter(r => r.outcome === "rejected" && r.code !== "").map(r => ({ code: r.code, count: toNumber(r.n) })),
      days: period.days,
    };
  }
}
