import Redis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { UnavailableError } from "../errors";
import { log } from "../log";
import { limitsFailOpen, limitsUnavailable, redisUp } from "../metrics";

/*
 * The counters behind the limits (a key's requestLimit, the velocity rule, the monthly quota's reservations), through
 * rate-limiter-flexible: in Redis when REDIS_URL is set, so that every server process counts against the same limit,
 * else in this process's memory (right for one process).
 *
 * Redis unreachable: the limits fail open for at most `failOpenSeconds`, counting in this process's memory meanwhile
 * (the outage is logged once and counted); past that, a request that needs a limit is refused with 503 UNAVAILABLE
 * (nothing stored: its client sends it again, and eventIds keep a retried event from being stored twice).
 */

export interface Taken {
  allowed: boolean;
  /** When refused: how long until the window lets the key through again. */
  msBeforeNext: number;
}

/** The message of a 503 when the limits cannot be counted. */
export const LIMITS_UNAVAILABLE = "The request limits cannot be counted right now (their store is unreachable); retry shortly";

/** How long a quota counter in Redis lives before it is read again from the database's committed counts. */
const QUOTA_RESYNC_SECONDS = 300;

/**
 * Atomically: -1 when the counter is missing and no start was given (ARGV[1] empty); else start it at ARGV[1] if it
 * is missing, add n, and take them back when over quota (0), or keep them (1).
 */
const RESERVE = `if ARGV[1] == '' then
  if redis.call('exists', KEYS[1]) == 0 then return -1 end
else
  redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[4], 'NX')
end
local reserved = redis.call('incrby', KEYS[1], ARGV[2])
if reserved > tonumber(ARGV[3]) then
  redis.call('decrby', KEYS[1], ARGV[2])
  return 0
end
return 1`;

export class Limits {
  private readonly memory = new Map<string, RateLimiterMemory>();
  private readonly shared = new Map<string, RateLimiterRedis>();
  /** When Redis stopped answering (ms since epoch); null while it answers. */
  private downSince: number | null = null;

  private constructor(
    readonly redis: Redis | null,
    private readonly failOpenMs: number,
    private readonly now: () => number,
  ) {}

  /** In-process counters only (no REDIS_URL). */
  static inMemory(): Limits {
    return new Limits(null, 0, Date.now);
  }

  /**
   * Counters in Redis at `url`. Commands fail at once while it is not connected (no offline queue), so a request
   * never waits on a Redis that is gone; the client reconnects on its own.
   */
  static inRedis(url: string, failOpenSeconds: number, now: () => number = Date.now): Limits {
    // Reconnects every half second at most while it is gone, so that the limits are shared again soon after it is back.
    const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: times => Math.min(times * 100, 500) });
    // ioredis logs a connection error to stderr unless someone listens; the outage is logged once by noteDown.
    redis.on("error", () => undefined);
    redisUp.set(0);
    redis.on("ready", () => redisUp.set(1));
    return new Limits(redis, failOpenSeconds * 1000, now);
  }

  /**
   * Counts `n` against `key` in the limit `name` of `points` per `durationSeconds` (a fixed window, as
   * rate-limiter-flexible counts).
   */
  async take(name: string, points: number, durationSeconds: number, key: string, n = 1): Promise<Taken> {
    if (!this.redis) return this.takeFrom(this.memoryLimiter(name, points, durationSeconds), key, n);
    try {
      const taken = await this.takeFrom(this.redisLimiter(name, points, durationSeconds), key, n);
      this.noteUp();
      return taken;
    } catch (err) {
      this.noteDown(err);
      return this.takeFrom(this.memoryLimiter(name, points, durationSeconds), key, n);
    }
  }

  /**
   * Reserves `n` events of an appspace's monthly `quota` (the quota's in-flight state, shared through Redis): false
   * when they would go over. The counter starts from what the database has committed this month (`committed`) and
   * starts again from it every QUOTA_RESYNC_SECONDS, so that events written while Redis was away are counted again.
   * Without Redis: the committed count alone, as one process sees it.
   */
  async reserveQuota(appspaceId: number, month: string, n: number, quota: number, committed: () => Promise<number>): Promise<boolean> {
    if (!this.redis) return (await committed()) + n <= quota;
    const key = `analytics:quota:${appspaceId}:${month}`;
    const reserve = (start: number | "") => this.redis!.eval(RESERVE, 1, key, start, n, quota, QUOTA_RESYNC_SECONDS);
    try {
      // The database is read only when the counter has to start (at most once per QUOTA_RESYNC_SECONDS).
      let reserved = await reserve("");
      if (reserved === -1) reserved = await reserve(await committed());
      this.noteUp();
      return reserved === 1;
    } catch (err) {
      this.noteDown(err);
      return (await committed()) + n <= quota;
    }
  }

  /** Gives back a reservation whose events were not written (the write failed). */
  async releaseQuota(appspaceId: number, month: string, n: number): Promise<void> {
    await this.redis?.decrby(`analytics:quota:${appspaceId}:${month}`, n).catch(() => undefined);
  }

  /** Closes the Redis connection (at shutdown). */
  async close(): Promise<void> {
    if (this.redis && this.redis.status !== "end") await this.redis.quit().catch(() => this.redis!.disconnect());
  }

  /** Whether counting falls back to memory now; throws UNAVAILABLE once Redis has been gone for longer than allowed. */
  private noteDown(err: unknown): void {
    const now = this.now();
    if (this.downSince === null) {
      this.downSince = now;
      redisUp.set(0);
      const reason = (err as { code?: unknown })?.code ?? (err instanceof Error ? err.message.slice(0, 80) : "unknown");
      log.error({ scope: "limits", reason: String(reason), failOpenSeconds: this.failOpenMs / 1000 }, "Redis unreachable: limits count in this process's memory until it is back or the fail-open time is over");
    }
    if (now - this.downSince > this.failOpenMs) {
      limitsUnavailable.inc();
      throw new UnavailableError(LIMITS_UNAVAILABLE);
    }
    limitsFailOpen.inc();
  }

  private noteUp(): void {
    if (this.downSince === null) return;
    log.warn({ scope: "limits", downSeconds: Math.round((this.now() - this.downSince) / 100) / 10 }, "Redis reachable again: limits are shared again");
    this.downSince = null;
    redisUp.set(1);
  }

  private async takeFrom(limiter: RateLimiterMemory | RateLimiterRedis, key: string, n: number): Promise<Taken> {
    try {
      await limiter.consume(key, n);
      return { allowed: true, msBeforeNext: 0 };
    } catch (res) {
      if (res instanceof RateLimiterRes) return { allowed: false, msBeforeNext: res.msBeforeNext };
      throw res;
    }
  }

  private memoryLimiter(name: string, points: number, duration: number): RateLimiterMemory {
    const id = `${name}:${points}:${duration}`;
    let limiter = this.memory.get(id);
    if (!limiter) this.memory.set(id, (limiter = new RateLimiterMemory({ points, duration, keyPrefix: id })));
    return limiter;
  }

  private redisLimiter(name: string, points: number, duration: number): RateLimiterRedis {
    const id = `${name}:${points}:${duration}`;
    let limiter = this.shared.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({ storeClient: this.redis, points, duration, keyPrefix: `analytics:${id}`, rejectIfRedisNotReady: true });
      this.shared.set(id, limiter);
    }
    return limiter;
  }
}
