import { Arg, Ctx, Int, Query, Resolver, UseMiddleware } from "type-graphql";
import { NeedsScope } from "../appspaces/auth-checker";
import { Context } from "../context";
import { StampDataAsOf } from "../data-as-of";
import { DateRange, IncludeFlaggedArg } from "../reports/range";
import { scopeOf } from "../reports/reports.service";
import { attribute } from "./attribution.service";
import { Attribution, AttributionModel } from "./attribution.types";

@Resolver()
export class AttributionResolver {
  @NeedsScope("reports:read")
  @UseMiddleware(StampDataAsOf)
  @Query(() => Attribution, {
    description:
      "Purchase revenue credited to the channels that led to it. Several models over one range share one read.",
  })
  async attribution(
    @Arg("range", () => DateRange, { nullable: true }) range: DateRange | undefined,
    @Arg("model", () => AttributionModel, { nullable: true, defaultValue: AttributionModel.LAST_CLICK })
    model: AttributionModel,
    @Arg("window", () => Int, {
      nullable: true,
      defaultValue: 30,
      description: "Days before a purchase that count: 7, 14, 30, 60 or 90.",
    })
    window: number,
    @IncludeFlaggedArg() includeFlagged: boolean,
    @Ctx() ctx: Context,
  ): Promise<Attribution> {
    const scope = scopeOf(ctx, range, includeFlagged);
    const inputs = await ctx.loaders.attributionInputs.load(scope);
    return attribute(scope, inputs, model, window);
  }
}
