import http from "node:http";
import net from "node:net";
import type { NextFunction, Request, Response } from "express";
import { RETRY_AFTER_SECONDS, SHUTTING_DOWN } from "./errors";

/**
 * The HTTP side of a graceful shutdown. Once `drain()` is called the listener closes (no new connections), the
 * requests in flight run to their end and their connections close after the answer (`Connection: close`), and a
 * request that arrives meanwhile on a kept-alive connection is answered 503 UNAVAILABLE with `Connection: close`,
 * so that its client sends it again elsewhere. Connections left idle are closed once nothing has been in flight for
 * LINGER_MS: a request may sit unread in a socket's buffer while the event loop is busy (SQLite's writes block it),
 * and closing its connection then would reset it instead of answering it.
 */
const LINGER_MS = 250;

export class RequestDrain {
  private readonly inFlight = new Set<Response>();
  private draining = false;
  private lastArrival = 0;

  constructor(private readonly server: http.Server) {}

  /** Express middleware, first in line: counts the requests in flight, and turns new ones away while draining. */
  readonly middleware = (_req: Request, res: Response, next: NextFunction): void => {
    this.lastArrival = Date.now();
    if (this.draining) {
      res.setHeader("Connection", "close");
      res.setHeader("Retry-After", String(RETRY_AFTER_SECONDS));
      res.status(503).json({ errors: [{ message: SHUTTING_DOWN, extensions: { code: "UNAVAILABLE" } }] });
      return;
    }
    this.inFlight.add(res);
    res.once("close", () => this.inFlight.delete(res));
    next();
  };

  /** Requests being served now. */
  get requests(): number {
    return this.inFlight.size;
  }

  /** Stops accepting connections; resolves once every request in flight is answered, with idle connections closed. */
  async drain(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.lastArrival = Date.now();
      // net.Server's close, not http.Server's: that one would also close idle kept-alive connections at once, and a
      // client sending on one just then would get a reset instead of an answer.
      net.Server.prototype.close.call(this.server);
      for (const res of this.inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    }
    while (this.inFlight.size > 0 || Date.now() - this.lastArrival < LINGER_MS) await new Promise(r => setTimeout(r, 25));
    this.server.closeIdleConnections();
  }
}
