import { Arg, Authorized, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { Attribution, AttributionModel } from "../attribution/attribution.types";
import { NotImplementedError } from "../errors";
import { UserDeletion, UserJourney } from "../identity/identity.types";
import { DateRange } from "./range";
import { Cohorts } from "./report.types";

/**
 * The contract's read side, declared so clients and Sandbox see the whole API.
 * Each answers NOT_IMPLEMENTED (after the secret-key check) until its issue lands.
 */
@Resolver()
export class PendingResolver {
  @Authorized("secret") @Query(() => Attribution)
  attribution(
    @Arg("range", () => DateRange, { nullable: true }) _range?: DateRange,
    @Arg("model", () => AttributionModel, { nullable: true, defaultValue: AttributionModel.LAST_CLICK }) _model?: AttributionModel,
    @Arg("window", () => Int, { nullable: true, defaultValue: 30 }) _window?: number,
  ): Attribution {
    throw new NotImplementedError("attribution");
  }

  @Authorized("secret") @Query(() => Cohorts)
  cohorts(@Arg("months", () => Int, { nullable: true, defaultValue: 6 }) _months?: number): Cohorts {
    throw new NotImplementedError("cohorts");
  }

  @Authorized("secret") @Query(() => UserJourney)
  userJourney(@Arg("userId", () => String) _userId: string): UserJourney {
    throw new NotImplementedError("userJourney");
  }

  @Authorized("secret") @Query(() => UserDeletion, { nullable: true })
  userDeletion(@Arg("id", () => ID) _id: string): UserDeletion | null {
    throw new NotImplementedError("userDeletion");
  }

  @Authorized("secret") @Mutation(() => UserDeletion, { description: "Secret key. Deletes every event and identity of the user and of every identifier linked to it." })
  deleteUser(@Arg("userId", () => String) _userId: string): UserDeletion {
    throw new NotImplementedError("deleteUser");
  }
}
