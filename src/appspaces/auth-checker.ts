import { AuthChecker } from "type-graphql";
import { Context } from "../context";
import { ForbiddenError, UnauthenticatedError } from "../errors";

/** @Authorized() needs any key of an appspace; @Authorized("secret") a secret one. */
export const authChecker: AuthChecker<Context> = ({ context }, roles) => {
  if (!context.appspace) throw new UnauthenticatedError();
  if (roles.includes("secret") && context.keyKind !== "secret") throw new ForbiddenError();
  return true;
};
