import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from "type-graphql";
import { NeedsScope } from "../appspaces/auth-checker";
import { ProductView } from "../catalog/product.type";
import { Context } from "../context";
import { StampDataAsOf } from "../data-as-of";
import { deletionById, requestDeletion } from "./deletion.service";
import { JourneyEvent, JourneyItem, UserDeletion, UserJourney } from "./identity.types";
import { JOURNEY_MAX, userJourney } from "./journey.service";

/** A person's journey and the deletion of their data: people:read and people:delete. */
@Resolver()
export class PeopleResolver {
  @NeedsScope("people:read") @UseMiddleware(StampDataAsOf) @Query(() => UserJourney)
  userJourney(
    @Arg("userId", () => String) userId: string,
    @Arg("limit", () => Int, { nullable: true, defaultValue: 1000, description: `The newest events to return, at most ${JOURNEY_MAX}; oldest first.` }) limit: number,
    @Ctx() ctx: Context,
  ) {
    return userJourney(ctx.db, ctx.appspace!, userId, limit);
  }

  // A deletion's status holds no personal data (counts, the HMAC of the userId): whoever may ask for one may follow it.
  @NeedsScope("people:read", "people:delete") @Query(() => UserDeletion, { nullable: true, description: "A deletion request of this appspace by id; null when there is none." })
  userDeletion(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    // From the primary, even in a query sent to a replica: the status its deletion worker has just written.
    return deletionById(ctx.services.db, ctx.appspace!, id);
  }

  @NeedsScope("people:delete")
  @Mutation(() => UserDeletion, { description: "Scope people:delete. Deletes every event and identity of the user and of every identifier linked to it." })
  async deleteUser(
    @Arg("userId", () => String) userId: string,
    @Arg("dryRun", () => Boolean, { nullable: true, defaultValue: false, description: "Only count what would be deleted." }) dryRun: boolean,
    @Ctx() ctx: Context,
  ) {
    const deletion = await requestDeletion(ctx.db, ctx.services.auditSecret, ctx.appspace!, userId, dryRun, ctx.services.now());
    if (!dryRun) ctx.services.deletions.kick();
    return deletion;
  }
}

@Resolver(() => JourneyEvent)
export class JourneyEventResolver {
  @FieldResolver(() => [JourneyItem])
  items(@Root() event: JourneyEvent, @Ctx() ctx: Context) {
    return ctx.loaders.eventItems.load(event.rowId);
  }
}

@Resolver(() => JourneyItem)
export class JourneyItemResolver {
  @FieldResolver(() => ProductView, { nullable: true })
  product(@Root() item: JourneyItem, @Ctx() ctx: Context) {
    return ctx.loaders.product.load(item.itemId);
  }
}
