import { driverError, statementShape } from "./db/failures";

/**
 * Failures as one log line each, without personal data. A database error logs its code and the shape of its
 * statement (the text without values), never its message, SQL or bound values: drivers quote the values in both
 * ("Duplicate entry 'alice@example.com' ..."). Other errors are bugs: their name, message and stack.
 */
export function describeFailure(err: unknown): string {
  const e = (err ?? {}) as { driverError?: unknown; query?: unknown; sql?: unknown; sqlMessage?: unknown; name?: unknown };
  const fromDatabase = e.driverError !== undefined || typeof e.query === "string" || typeof e.sql === "string" || typeof e.sqlMessage === "string";
  if (fromDatabase || driverError(err).code) {
    const { code, errno } = driverError(err);
    const shape = statementShape(typeof e.query === "string" ? e.query : typeof e.sql === "string" ? e.sql : undefined);
    return [`code=${code ?? "unknown"}`, errno ? `errno=${errno}` : "", shape ? `statement="${shape}"` : ""].filter(Boolean).join(" ");
  }
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return typeof err;
}

/** Logs a failure of `scope` (e.g. "graphql", "deletion") with the request id or other non-personal fields. */
export function logFailure(scope: string, what: string, err: unknown, fields: Record<string, string | number | undefined> = {}): void {
  const extra = Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  console.error(`[${scope}] ${what}: ${[...extra, describeFailure(err)].join(" ")}`);
}
