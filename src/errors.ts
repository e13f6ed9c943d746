import { GraphQLError } from "graphql";

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
  constructor(message = "A valid API key is required: send Authorization: Bearer <key>") {
    super(message, "UNAUTHENTICATED", 401);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "This operation needs a secret key (sk_...)") {
    super(message, "FORBIDDEN", 403);
  }
}

/** Codes that are ours to show; anything else is masked by formatError. */
export const PUBLIC_CODES = new Set([
  "BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "QUOTA_EXCEEDED", "RATE_LIMITED", "PAYLOAD_TOO_LARGE",
  // Apollo's own, raised before any resolver runs.
  "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND", "PERSISTED_QUERY_NOT_SUPPORTED", "OPERATION_RESOLUTION_FAILURE",
]);
