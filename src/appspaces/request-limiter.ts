import { AppError } from "../errors";
import { Limits } from "../limits/limits";

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(`Too many requests for this API key; retry in ${retryAfterSeconds} s`, "RATE_LIMITED", 429, {
      http: { status: 429, headers: new Map([["retry-after", String(retryAfterSeconds)]]) },
    });
  }
}

/** Requests per API key over a fixed window: in Redis, shared by every server process, or in this process (Limits). */
export class RequestLimiter {
  constructor(
    private readonly limits: Limits,
    private readonly windowSeconds: number,
  ) {}

  /** Counts one request of the key; throws RATE_LIMITED (HTTP 429, Retry-After) past `limit` in the window. */
  async take(keyId: number, limit: number): Promise<void> {
    const taken = await this.limits.take("requests", limit, this.windowSeconds, String(keyId));
    if (!taken.allowed) throw new RateLimitedError(Math.max(1, Math.ceil(taken.msBeforeNext / 1000)));
  }
}
