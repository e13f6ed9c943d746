import { AuthChecker, Authorized } from "type-graphql";
import { Context } from "../context";
import { ForbiddenError, UnauthenticatedError } from "../errors";
import { allows, Scope } from "./scopes";

/**
 * An operation that needs a key with one of `scopes` (or admin): without a key it answers 401, with a key holding
 * none of them 403, naming the first (extensions.scope) and the others in the message.
 */
export const NeedsScope = (...scopes: [Scope, ...Scope[]]) => Authorized<Scope>(...scopes);

export const authChecker: AuthChecker<Context, Scope> = ({ context, info }, opening) => {
  if (!context.appspace) throw new UnauthenticatedError();
  if (opening.some(scope => allows(context.scopes, scope))) return true;
  throw new ForbiddenError(missingScopeMessage(info.fieldName, opening, context), { scope: opening[0] });
};

/** Names the scope and what to use instead: publishable keys are public and only ever send events. */
function missingScopeMessage(operation: string, opening: readonly Scope[], context: Context): string {
  const needs = `${operation} needs a key with the scope ${opening.join(" or ")}`;
  if (context.keyKind === "publishable") return `${needs}; a publishable key (pk_...) only sends events: use a secret key (sk_...)`;
  return `${needs}; ${context.scopes.length ? `this key has: ${context.scopes.join(", ")}` : "this key has no scope"}`;
}
