import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AppError } from "../errors";

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(`Too many requests for this API key; retry in ${retryAfterSeconds} s`, "RATE_LIMITED", 429, {
      http: { status: 429, headers: new Map([["retry-after", String(retryAfterSeconds)]]) },
    });
  }
}

/** Requests per API key over a fixed window, counted in this process (rate-limiter-flexible). */
export class RequestLimiter {
  private readonly limiters = new Map<number, RateLimiterMemory>();

  constructor(private readonly windowSeconds: number) {}

  /** Counts one request of the key; throws RATE_LIMITED (HTTP 429, Retry-After) past `limit` in the window. */
  async take(keyId: number, limit: number): Promise<void> {
    let limiter = this.limiters.get(limit);
    if (!limiter) this.limiters.set(limit, (limiter = new RateLimiterMemory({ points: limit, duration: this.windowSeconds })));
    try {
      await limiter.consume(String(keyId));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      throw new RateLimitedError(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
    }
  }
}
