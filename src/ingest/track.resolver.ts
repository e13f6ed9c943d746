import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { NeedsScope } from "../appspaces/auth-checker";
import { Context } from "../context";
import { BadUserInputError, ForbiddenError } from "../errors";
import { EventInput } from "./event.input";
import { ingest } from "./ingest.service";
import { TrackBatchResult, TrackResult } from "./track.types";
import { LIMITS } from "./validate";

function checkPlan(ctx: Context) {
  if (ctx.appspace!.plan === "free") throw new ForbiddenError("Ecommerce events are not available on the free tier");
}

const sender = (ctx: Context) => ({ keyKind: ctx.keyKind!, address: ctx.clientAddress });

@Resolver()
export class TrackResolver {
  @NeedsScope("ingest")
  @Mutation(() => TrackResult, { description: "Scope ingest: any publishable key, or a secret key with ingest or admin." })
  async trackEvent(@Arg("event", () => EventInput) event: EventInput, @Ctx() ctx: Context): Promise<TrackResult> {
    checkPlan(ctx);
    const result = await ingest(ctx.services, ctx.appspace!, sender(ctx), [event]);
    Object.assign(ctx.record, { accepted: result.accepted, rejected: result.problems.length });
    const failed = result.problems[0]?.problem;
    if (failed) throw new BadUserInputError(failed.message, { field: failed.field, reason: failed.code });
    return { ok: true };
  }

  @NeedsScope("ingest")
  @Mutation(() => TrackBatchResult, { description: "1 to 100 events; invalid ones are skipped and listed in errors." })
  async trackEvents(@Arg("events", () => [EventInput]) events: EventInput[], @Ctx() ctx: Context): Promise<TrackBatchResult> {
    checkPlan(ctx);
    if (events.length === 0) throw new BadUserInputError("events array is required and must not be empty", { field: "events" });
    if (events.length > LIMITS.batch) throw new BadUserInputError(`Maximum ${LIMITS.batch} events per batch`, { field: "events" });
    const result = await ingest(ctx.services, ctx.appspace!, sender(ctx), events);
    Object.assign(ctx.record, { accepted: result.accepted, rejected: result.problems.length });
    return {
      ok: true,
      accepted: result.accepted,
      errors: result.problems.map(({ index, problem }) => ({ index, code: problem.code, message: `events[${index}]: ${problem.message}` })),
    };
  }
}
