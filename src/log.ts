import pino, { Logger } from "pino";
import { driverError, statementShape } from "./db/failures";

/*
 * The server's log: one JSON line per entry (pino), on stdout, UTC ISO times. What may go in a line is fixed by the
 * callers: request ids, operation names, appspace ids, counts, durations, error codes; never keys, ids of people,
 * orders or events, or addresses (test/operations.test.ts reads a whole run's log for them).
 */

/**
 * pino's own destination on a file descriptor (stdout by default): synchronous, so that a line logged before
 * process.exit is written, and waiting out a reader that is behind (EAGAIN on a pipe) instead of failing.
 */
function writerTo(fd: number): (line: string) => void {
  const out = pino.destination({ dest: fd, sync: true });
  return line => void out.write(line);
}

/** Where the lines go; tests swap it (captureLogs) to read them. */
let sink = writerTo(1);

export const log: Logger = pino(
  { base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: label => ({ level: label }) } },
  { write: (line: string) => sink(line) },
);

/**
 * Sets the level (LOG_LEVEL), the file descriptor (stdout; the commands log to stderr, their output is on stdout)
 * and, with `pretty` (development at a terminal), pino-pretty's colored lines instead of JSON (a devDependency: an
 * install without it keeps JSON).
 */
export function configureLog(level: string, opts: { pretty?: boolean; fd?: 1 | 2 } = {}): void {
  log.level = level;
  const fd = opts.fd ?? 1;
  sink = writerTo(fd);
  if (!opts.pretty) return;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prettify = require("pino-pretty") as (opts: object) => NodeJS.WritableStream;
    const stream = prettify({ sync: true, destination: fd, translateTime: "SYS:HH:MM:ss.l", ignore: "pid", singleLine: true });
    sink = line => void stream.write(line);
  } catch {
    // Not installed (a production install): JSON lines.
  }
}

/** Collects the lines logged at `level` or above until the returned function is called, which restores the log and returns them. */
export function captureLogs(level = "info"): () => Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  const [previousSink, previousLevel] = [sink, log.level];
  sink = line => void lines.push(JSON.parse(line));
  log.level = level;
  return () => {
    sink = previousSink;
    log.level = previousLevel;
    return lines;
  };
}

/** An error of the database (TypeORM's QueryFailedError, a driver's error) or of a socket: it carries a code. */
export function isDatabaseFailure(err: unknown): boolean {
  const e = (err ?? {}) as { driverError?: unknown; query?: unknown; sql?: unknown; sqlMessage?: unknown };
  const fromDatabase = e.driverError !== undefined || typeof e.query === "string" || typeof e.sql === "string" || typeof e.sqlMessage === "string";
  return fromDatabase || !!driverError(err).code;
}

/**
 * What a log line may hold of an error. A database error: its code and the shape of its statement (the text without
 * values), never its message, SQL or bound values: drivers quote the values in both ("Duplicate entry
 * 'alice@example.com' ..."). Other errors are bugs: their name, message and stack.
 */
export function describeFailure(err: unknown): string {
  if (isDatabaseFailure(err)) {
    const e = err as { query?: unknown; sql?: unknown };
    const { code, errno } = driverError(err);
    const shape = statementShape(typeof e.query === "string" ? e.query : typeof e.sql === "string" ? e.sql : undefined);
    return [`code=${code ?? "unknown"}`, errno ? `errno=${errno}` : "", shape ? `statement="${shape}"` : ""].filter(Boolean).join(" ");
  }
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return typeof err;
}

/** Logs a failure of `scope` (e.g. "graphql", "deletion") with the request id or other non-personal fields. */
export function logFailure(scope: string, what: string, err: unknown, fields: Record<string, string | number | undefined> = {}): void {
  log.error({ scope, ...fields, error: describeFailure(err) }, what);
}
