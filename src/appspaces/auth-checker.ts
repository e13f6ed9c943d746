import { AuthChecker, Authorized } from "type-graphql";
import { Context } from "../context";
import { ForbiddenError, UnauthenticatedError } from "../errors";
import { allows, Scope } from "./scopes";

/** An operation that needs a key with `scope` (or admin); without a key it answers 401, with a key lacking it 403. */
export const NeedsScope = (scope: Scope) => Authorized<Scope>(scope);

export const authChecker: AuthChecker<Context, Scope> = ({ context, info }, needed) => {
  if (!context.appspace) throw new UnauthenticatedError();
  const missing = needed.find(scope => !allows(context.scopes, scope));
  if (missing) throw new ForbiddenError(missingScopeMessage(info.fieldName, missing, context), { scope: missing });
  return true;
};

/** Names the scope and what to use instead: publishable keys are public and only ever send events. */
function missingScopeMessage(operation: string, scope: Scope, context: Context): string {
  const needs = `${operation} needs a key with the scope ${scope}`;
  if (context.keyKind === "publishable") return `${needs}; a publishable key (pk_...) only sends events: use a secret key (sk_...)`;
  return `${needs}; this key has: ${context.scopes.join(", ")}`;
}
