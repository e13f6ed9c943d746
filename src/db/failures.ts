/**
 * What a database failure means for a client. Two kinds are not the request's fault, and a retry of the same request
 * may succeed: the database cannot be reached (refused, lost or killed connections, a closed pool), and lock conflicts
 * that outlived their retries. Both answer 503 UNAVAILABLE; anything else is a bug (500).
 */

/** The driver's code, number and fatal flag of an error (TypeORM wraps the driver's error in driverError). */
export function driverError(err: unknown): { code?: string; errno?: number; fatal?: boolean } {
  if (!err || typeof err !== "object") return {};
  const e = err as { driverError?: object; code?: unknown; errno?: unknown; fatal?: unknown };
  const d = (e.driverError ?? e) as { code?: unknown; errno?: unknown; fatal?: unknown };
  return {
    code: typeof d.code === "string" ? d.code : undefined,
    errno: typeof d.errno === "number" ? d.errno : undefined,
    fatal: d.fatal === true,
  };
}

/** Lock conflicts: the server rolled the transaction back; running it again is safe and usually succeeds. */
export const LOCK_CONFLICTS = new Set(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"]);

/** Codes of a database that cannot be reached or went away, from mysql2, MariaDB and Node's sockets. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST", "PROTOCOL_SEQUENCE_TIMEOUT", "PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR", "PROTOCOL_ENQUEUE_AFTER_QUIT",
  "ER_CON_COUNT_ERROR", "ER_TOO_MANY_USER_CONNECTIONS", "ER_SERVER_SHUTDOWN", "ER_CONNECTION_KILLED", "ER_QUERY_INTERRUPTED",
  "ER_SERVER_GONE_ERROR", "ER_SERVER_LOST", "ER_NET_READ_ERROR", "ER_NET_READ_INTERRUPTED", "ER_NET_ERROR_ON_WRITE",
]);

/** MariaDB's "Connection was killed" (1927) and "server shutdown in progress" (1053), which mysql2 may leave without a code name. */
const CONNECTION_ERRNOS = new Set([1927, 1053, 2006, 2013]);

/** mysql2's own messages for a connection it has already closed or a pool that is gone. */
const CLOSED = /Can't add new command when connection is in closed state|Pool is closed|connection is in closed state|Connection lost/i;

/** The database could not be reached, or the connection a statement ran on died. */
export function isConnectionFailure(err: unknown): boolean {
  const { code, errno, fatal } = driverError(err);
  if (code && CONNECTION_CODES.has(code)) return true;
  if (errno && CONNECTION_ERRNOS.has(errno)) return true;
  if (fatal && !(code && LOCK_CONFLICTS.has(code))) return true;
  const message = err instanceof Error ? err.message : "";
  return CLOSED.test(message);
}

/** A failure a client should retry (503), not a bug: an unreachable database, or lock conflicts past their retries. */
export function isTransientFailure(err: unknown): boolean {
  const { code } = driverError(err);
  return isConnectionFailure(err) || (!!code && (LOCK_CONFLICTS.has(code) || code.startsWith("SQLITE_BUSY")));
}

/**
 * The statement's shape: its text without values (statements bind them; literals spliced in are blanked too),
 * and a multi-row VALUES list folded to its first tuple and a count. What a log may hold of a failed query.
 */
export function statementShape(query: string | undefined): string | undefined {
  if (!query) return undefined;
  const blanked = query
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "?")
    .replace(/\b\d+(\.\d+)?\b/g, "?")
    .replace(/\s+/g, " ")
    .trim();
  const folded = blanked.replace(/(\((?:\?, )*\?\))(?:, \(\?(?:, \?)*\))+/g, (all, first: string) => `${first} x${all.split("), (").length}`);
  return folded.length > 300 ? `${folded.slice(0, 300)}…` : folded;
}
