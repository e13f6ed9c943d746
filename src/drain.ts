import http from "node:http";
import net from "node:net";
import type { NextFunction, Request, Response } from "express";
import { RETRY_AFTER_SECONDS, SHUTTING_DOWN } from "./errors";

/**
 * The HTTP side of a graceful shutdown, once `drain()` is called:
 * 1. every request is answered 503 UNAVAILABLE with `Connection: close` (so that its client sends it again
 *    elsewhere), while the requests in flight run to their end, their connections closing after the answer;
 * 2. once none is in flight, connections are still accepted for LINGER_MS: while the event loop was busy (SQLite's
 *    writes block it) clients may have connected and sent requests that wait in the listener's backlog, which
 *    closing the listener would reset instead of answering;
 * 3. the listener closes (new connections are refused), and once the connections still open have been quiet for
 *    LINGER_MS, with their sockets read since, the idle ones are closed.
 */
const LINGER_MS = 250;

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
/** setImmediate's callback runs after the event loop's poll for I/O: requests waiting in sockets have been read. */
const afterReads = () => new Promise(r => setImmediate(r));

export class RequestDrain {
  private readonly inFlight = new Set<Response>();
  private stopping = false;
  private lastArrival = 0;

  constructor(private readonly server: http.Server) {}

  /** Express middleware, first in line: counts the requests in flight, and turns new ones away while draining. */
  readonly middleware = (_req: Request, res: Response, next: NextFunction): void => {
    this.lastArrival = Date.now();
    if (this.stopping) {
      res.setHeader("Connection", "close");
      res.setHeader("Retry-After", String(RETRY_AFTER_SECONDS));
      res.status(503).json({ errors: [{ message: SHUTTING_DOWN, extensions: { code: "UNAVAILABLE" } }] });
      return;
    }
    this.inFlight.add(res);
    res.once("close", () => this.inFlight.delete(res));
    next();
  };

  /** Whether drain() was called: the server is shutting down. */
  get draining(): boolean {
    return this.stopping;
  }

  /** Requests being served now. */
  get requests(): number {
    return this.inFlight.size;
  }

  /** Resolves once every request in flight is answered, the listener is closed and so are idle connections. */
  async drain(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      for (const res of this.inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    }
    while (this.inFlight.size > 0) await sleep(25);
    await sleep(LINGER_MS);
    await afterReads();
    // net.Server's close, not http.Server's: that one would also close idle kept-alive connections at once, and a
    // client sending on one just then would get a reset instead of an answer.
    if (this.server.listening) net.Server.prototype.close.call(this.server);
    while (!(await this.quiet())) await sleep(25);
    this.server.closeIdleConnections();
  }

  /** Nothing in flight and nothing arrived for LINGER_MS, also once the sockets have been read. */
  private async quiet(): Promise<boolean> {
    const now = () => this.inFlight.size === 0 && Date.now() - this.lastArrival >= LINGER_MS;
    if (!now()) return false;
    await afterReads();
    return now();
  }
}
