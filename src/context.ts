import { randomBytes } from "node:crypto";
import type { Request } from "express";
import { DataSource } from "typeorm";
import { Appspace } from "./appspaces/appspace.entity";
import { KeyKind } from "./appspaces/api-key.entity";
import { Scope } from "./appspaces/scopes";
import { authenticate } from "./appspaces/appspace.service";
import { createAttributionLoader } from "./attribution/attribution.service";
import { createProductLoader } from "./catalog/product.loader";
import { DeletionWorker, DeletionWorkerOptions } from "./identity/deletion.worker";
import { createEventItemsLoader } from "./identity/journey.service";
import { READ_MODELS } from "./read-models";
import { RollupRefresher } from "./rollups/refresher";
import { RetentionPurger } from "./retention/retention";
import { FraudChecks } from "./ingest/fraud";
import { RateLimitedError, RequestLimiter } from "./appspaces/request-limiter";
import { settingsOf } from "./appspaces/settings";
import { IdAllocator } from "./db/id-allocator";
import { ForbiddenError, UnauthenticatedError, UnavailableError, unavailableMessage } from "./errors";
import { isTransientFailure } from "./db/failures";
import { logFailure } from "./log";
import { refusals } from "./metrics";
import type { RequestRecord } from "./ops/request-log";
import { healthOf } from "./db/health";
import { RatesCache } from "./ingest/rates/rates.service";
import { RatesFetcher } from "./ingest/rates/rates-fetcher";
import { Limits } from "./limits/limits";
import { eventWrites, EventWrites } from "./ingest/ingest.service";
import { ReadReplicas, ReadSource } from "./db/replicas";

/** Long-lived parts shared by every request of one server. */
export interface Services {
  db: DataSource;
  eventIds: IdAllocator;
  rates: RatesCache;
  /** Keeps the rates current from RATES_URL; null: the rates in the database (loaded by hand). */
  ratesFetcher: RatesFetcher | null;
  /** The server's clock: what "now" and "today" (UTC) mean for ingest and reports. Tests pin it. */
  now: () => Date;
  deletions: DeletionWorker;
  rollups: RollupRefresher;
  retention: RetentionPurger;
  /** false: reports compute everything from raw events (the benchmark's baseline). */
  reportsFromRollups: boolean;
  fraud: FraudChecks;
  /** Event writes, coalesced per appspace (group commit). */
  writes: EventWrites;
  requests: RequestLimiter;
  /** The counters behind the limits: in Redis (REDIS_URL) or in this process. */
  limits: Limits;
  /** The key of the deletion audit's HMAC (loadAuditSecret). */
  auditSecret: Buffer;
  /** Where queries read: the read replicas (DATABASE_READ_URLS) in turn, or the primary. */
  replicas: ReadReplicas;
}

export interface ServiceOptions {
  now?: () => Date;
  deletion?: DeletionWorkerOptions;
  /** The window of the per-key request limit (the appspace's requestLimit), in seconds. */
  rateLimitWindowSeconds?: number;
  /** How often the rollup refresher looks for stale days, in ms. */
  rollupRefreshMs?: number;
  /** How often data older than each appspace's retention is purged, in ms (the first purge one interval after start). */
  retentionPurgeMs?: number;
  reportsFromRollups?: boolean;
  /** The deletion audit's key; by default a new one (tests): src/index.ts passes the installation's. */
  auditSecret?: Buffer;
  /** Redis for the limits shared by every server process (REDIS_URL), and how long they may fail open without it. */
  redis?: { url: string | null; failOpenSeconds: number };
  /** Exchange rates fetched from `url` at start and every `refreshMs` (RATES_URL, RATES_REFRESH_HOURS). */
  rates?: { url: string | null; refreshMs: number };
  /** Read replicas for queries (DATABASE_READ_URLS), skipped beyond `maxLagSeconds` behind (REPLICA_MAX_LAG_SECONDS). */
  replicas?: { urls: readonly string[]; maxLagSeconds: number };
}

export function createServices(db: DataSource, opts: ServiceOptions = {}): Services {
  const now = opts.now ?? (() => new Date());
  const rates = new RatesCache(db);
  const limits = opts.redis?.url ? Limits.inRedis(opts.redis.url, opts.redis.failOpenSeconds) : Limits.inMemory();
  return {
    db, now,
    eventIds: new IdAllocator(db, "events"),
    rates,
    ratesFetcher: opts.rates?.url ? new RatesFetcher(db, rates, { url: opts.rates.url, refreshMs: opts.rates.refreshMs }) : null,
    deletions: new DeletionWorker(db, READ_MODELS, { now, ...opts.deletion }),
    rollups: new RollupRefresher(db, READ_MODELS, opts.rollupRefreshMs ?? 1000),
    retention: new RetentionPurger(db, READ_MODELS, opts.retentionPurgeMs ?? 3_600_000, now),
    reportsFromRollups: opts.reportsFromRollups ?? true,
    fraud: new FraudChecks(limits),
    limits,
    writes: eventWrites(db),
    requests: new RequestLimiter(limits, opts.rateLimitWindowSeconds ?? 60),
    auditSecret: opts.auditSecret ?? randomBytes(32),
    replicas: new ReadReplicas(db, opts.replicas?.urls ?? [], opts.replicas?.maxLagSeconds ?? 30, now),
  };
}

export interface Loaders {
  product: ReturnType<typeof createProductLoader>;
  eventItems: ReturnType<typeof createEventItemsLoader>;
  attributionInputs: ReturnType<typeof createAttributionLoader>;
}

export interface Context {
  requestId: string;
  /** What the request's log line will say (src/ops/request-log.ts): resolvers add their counts. */
  record: RequestRecord;
  /** From the API key; null when the request carries none. */
  appspace: Appspace | null;
  keyKind: KeyKind | null;
  /** What the key may do (src/appspaces/scopes.ts); none without a key. */
  scopes: readonly Scope[];
  /** The client's address: the connection's, or what a trusted proxy says (TRUST_PROXY). Never stored or logged. */
  clientAddress: string | null;
  /** Where the request reads: the primary (services.db), or for a query a read replica (chooseReadSource). */
  db: DataSource;
  /** That database, and the time up to which what it holds is complete (every report's dataAsOf). */
  reads: ReadSource;
  services: Services;
  /** Fresh per request, so no cached row crosses requests or tenants. */
  loaders: Loaders;
}

function createLoaders(db: DataSource, appspace: Appspace | null): Loaders {
  // Without a key no resolver that reads runs; an id no appspace has keeps the loaders empty regardless.
  const appspaceId = appspace?.id ?? 0;
  return {
    product: createProductLoader(db, appspaceId),
    eventItems: createEventItemsLoader(db, appspace),
    attributionInputs: createAttributionLoader(db, appspaceId),
  };
}

/** The key from `Authorization: Bearer <key>` or `x-api-key`. */
function apiKeyOf(req: Request): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) throw new UnauthenticatedError("Authorization header must be: Bearer <key> (or send the key as x-api-key: <key>)");
    return m[1];
  }
  const header = req.headers["x-api-key"];
  return typeof header === "string" && header.trim() ? header.trim() : null;
}

/**
 * A key made with origins (keys create --origins) is refused in a browser on any other site: the Origin header a
 * browser sends must be one of them. A request without Origin is no browser's (a server, curl) and passes: the list
 * keeps a key copied out of a web page from working on another site, it does not make the key a secret.
 */
function checkOrigin(req: Request, allowed: readonly string[] | null): void {
  const origin = req.headers.origin;
  if (!allowed || origin === undefined || allowed.includes(origin)) return;
  throw new ForbiddenError(`This API key may not be used from the origin ${origin.slice(0, 200)}: it is limited to the origins it was made with`);
}

/** Counts the request against its key's requestLimit; a refusal is counted in requests_refused_total too. */
async function takeRequest(services: Services, keyId: number, appspace: Appspace): Promise<void> {
  try {
    await services.requests.take(keyId, settingsOf(appspace).requestLimit);
  } catch (err) {
    if (err instanceof RateLimitedError) refusals.inc({ reason: "rate_limited", appspace: String(appspace.id) });
    throw err;
  }
}

/**
 * Built once per request: a key that is present must be valid; no key leaves the appspace null. A database that
 * cannot be reached answers 503 UNAVAILABLE (Apollo sends the status and Retry-After of the error thrown here).
 */
export async function createContext(services: Services, req: Request, record: RequestRecord): Promise<Context> {
  const requestId = record.requestId;
  const key = apiKeyOf(req);
  let auth: Awaited<ReturnType<typeof authenticate>> = null;
  try {
    auth = key ? await authenticate(services.db, key, services.now()) : null;
  } catch (err) {
    if (!isTransientFailure(err)) {
      logFailure("graphql", "authentication failed", err, { request: requestId });
      throw err;
    }
    healthOf(services.db).noteFailure(err);
    throw new UnavailableError(unavailableMessage(err));
  }
  if (key && !auth) throw new UnauthenticatedError("Unknown or revoked API key");
  if (auth) {
    checkOrigin(req, auth.origins);
    record.appspace = auth.appspace.id;
    await takeRequest(services, auth.keyId, auth.appspace);
  }
  return {
    requestId,
    record,
    appspace: auth?.appspace ?? null,
    keyKind: auth?.keyKind ?? null,
    scopes: auth?.scopes ?? [],
    clientAddress: req.ip ?? null,
    db: services.db,
    reads: { db: services.db, replica: null, dataAsOf: services.now() },
    services,
    loaders: createLoaders(services.db, auth?.appspace ?? null),
  };
}

/**
 * Sends a query's reads to a read replica (when there are any that serve): reports, journeys and stats. Mutations, and
 * what must see its own writes (a deletion's status, keys), read the primary. Called once the operation is known,
 * before anything is read.
 */
export async function chooseReadSource(ctx: Context, operationType: string): Promise<void> {
  if (operationType !== "query" || !ctx.appspace || !ctx.services.replicas.enabled) return;
  ctx.reads = await ctx.services.replicas.readSource();
  ctx.db = ctx.reads.db;
  ctx.loaders = createLoaders(ctx.db, ctx.appspace);
  ctx.record.readFrom = ctx.reads.replica === null ? "primary" : `replica ${ctx.reads.replica}`;
}

/**
 * A database failure a request met: a replica it read from that cannot be reached is skipped (the next queries go
 * elsewhere); any other goes to the primary's health (logged once per outage).
 */
export function noteDatabaseFailure(ctx: Context, err: unknown): void {
  if (ctx.reads.replica !== null && ctx.services.replicas.readFailed(ctx.reads.replica, err)) return;
  healthOf(ctx.services.db).noteFailure(err);
}
