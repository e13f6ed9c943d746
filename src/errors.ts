import { GraphQLError } from "graphql";
import { isConnectionFailure } from "./db/failures";

/** Errors a client may see: each has a stable extensions.code and, where it matters, an HTTP status. */
export class AppError extends GraphQLError {
  constructor(message: string, code: string, status?: number, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...(status ? { http: { status } } : {}), ...extra } });
  }
}

export class BadUserInputError extends AppError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message, "BAD_USER_INPUT", 400, extra);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = "A valid API key is required: send Authorization: Bearer <key>, or x-api-key: <key>") {
    super(message, "UNAUTHENTICATED", 401);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message, "FORBIDDEN", 403, extra);
  }
}

/** Seconds a client waits before retrying a request answered 503. */
export const RETRY_AFTER_SECONDS = 2;

/**
 * 503 UNAVAILABLE with Retry-After: the request did not fail for what it holds, and the same request sent again
 * later may succeed (a batch again too: an eventId is stored once, whatever the number of tries).
 */
export class UnavailableError extends AppError {
  constructor(message: string) {
    super(message, "UNAVAILABLE", undefined, { http: { status: 503, headers: new Map([["retry-after", String(RETRY_AFTER_SECONDS)]]) } });
  }
}

const DATABASE_UNREACHABLE = "The database is unreachable; retry later";
const DATABASE_BUSY = "The database is busy; retry later";

/** What a client is told of a transient database failure (isTransientFailure). */
export function unavailableMessage(err: unknown): string {
  return isConnectionFailure(err) ? DATABASE_UNREACHABLE : DATABASE_BUSY;
}
export const SHUTTING_DOWN = "The server is shutting down; retry on another connection";

/** Codes that are ours to show; anything else is masked by formatError. */
export const PUBLIC_CODES = new Set([
  "BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "QUOTA_EXCEEDED", "RATE_LIMITED", "PAYLOAD_TOO_LARGE", "UNAVAILABLE",
  // Apollo's own, raised before any resolver runs.
  "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND", "PERSISTED_QUERY_NOT_SUPPORTED", "OPERATION_RESOLUTION_FAILURE",
]);
