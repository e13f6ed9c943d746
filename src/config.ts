import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Variables from `.env` in the working directory, if there is one (variables set in the environment win). */
export function loadEnvFile(file = ".env"): void {
  if (fs.existsSync(file)) process.loadEnvFile(file);
}

export interface Config {
  readonly port: number;
  /** mysql://user:pass@host:3306/db; null means the embedded SQLite file. */
  readonly databaseUrl: string | null;
  readonly sqlitePath: string;
  readonly nodeEnv: string;
  readonly logSql: boolean;
  /** The GDPR deletion worker: events per transaction, pause between chunks, lease on a running request. */
  readonly deletion: { readonly chunkSize: number; readonly pauseMs: number; readonly leaseMs: number };
  /** The window of the per-key request limit, in seconds. */
  readonly rateLimitWindowSeconds: number;
  /** How often the rollup refresher recomputes stale days, in ms. */
  readonly rollupRefreshMs: number;
  /** How often data older than each appspace's retention is purged, in ms. */
  readonly retentionPurgeMs: number;
  /** How long a shutdown (SIGTERM, SIGINT) may take before what is left is abandoned (exit 1), in ms. */
  readonly shutdownTimeoutMs: number;
  /** The deletion audit's HMAC key as hex (AUDIT_SECRET); null: the file auditSecretFile, made at first start. */
  readonly auditSecret: string | null;
  readonly auditSecretFile: string;
  /**
   * Which proxies in front of the server are trusted to say the client's address (X-Forwarded-For), as Express's
   * "trust proxy": false (the default: the connection's own address), a number of hops, or addresses and subnets.
   */
  readonly trustProxy: boolean | number | string;
  /** NODE_ENV=production: introspection, field suggestions and CORS default to closed, logs are JSON. */
  readonly production: boolean;
  /** pino's level: fatal, error, warn, info, debug, trace or silent. */
  readonly logLevel: string;
  /** A port of its own for GET /metrics (not served on `port` then); null: /metrics on `port`. */
  readonly metricsPort: number | null;
  /** Exchange rates fetched from an Open Exchange Rates-compatible latest.json; null url: the rates in the database. */
  readonly rates: { readonly url: string | null; readonly refreshMs: number };
  /** Origins a browser may call the API from; "*" any. */
  readonly corsOrigins: "*" | readonly string[];
  /** Whether the schema answers introspection (Apollo Sandbox, codegen). */
  readonly introspection: boolean;
  /** Whether GraphiQL is served at /explorer. */
  readonly explorer: boolean;
  /** Whether a demo appspace made on an empty database gets a week of generated events (the zero-config start's). */
  readonly demoData: boolean;
  /** Server processes (node:cluster workers) sharing the port; 1: this process serves. */
  readonly workers: number;
  /** Redis for the limits every server process shares (null: counted in each process); how long they may fail open. */
  readonly redis: { readonly url: string | null; readonly failOpenSeconds: number };
  /** Read replicas of DATABASE_URL for reports, journeys and stats; one lagging more than maxLagSeconds is skipped. */
  readonly replicas: { readonly urls: readonly string[]; readonly maxLagSeconds: number };
}

function fail(message: string): never {
  throw new Error(`Invalid configuration: ${message}`);
}

/** The longest timer Node runs as asked (2^31 - 1 ms, about 24.8 days); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(env[name] ?? fallback);
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be a whole number ${range}, got "${env[name]}"`);
  return value;
}

function auditSecret(value: string | undefined): string | null {
  const v = value?.trim() ?? "";
  if (v === "") return null;
  if (!/^([0-9a-f]{2}){32,}$/i.test(v)) fail("AUDIT_SECRET must be at least 64 hex digits (32 random bytes: openssl rand -hex 32)");
  return v;
}

function trustProxy(value: string | undefined): boolean | number | string {
  const v = value?.trim() ?? "";
  if (v === "" || v === "false" || v === "0") return false;
  if (v === "true") return true;
  if (/^\d+$/.test(v)) return Number(v);
  if (!/^[\w.:/,\s-]+$/.test(v)) fail(`TRUST_PROXY must be true, false, a number of proxies, or addresses and subnets separated by commas, got "${value}"`);
  return v;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function logLevel(value: string | undefined): string {
  const v = value?.trim().toLowerCase() || "info";
  if (!LOG_LEVELS.includes(v)) fail(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
  return v;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number | null): number | null {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 65535) fail(`${name} must be a port number (0-65535), got "${raw}"`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = env[name]?.trim();
  if (!v) return fallback;
  if (v !== "0" && v !== "1") fail(`${name} must be 1 or 0, got "${v}"`);
  return v === "1";
}

/** RATES_URL with RATES_APP_ID added as its app_id parameter (when the URL has none). */
function ratesUrl(env: NodeJS.ProcessEnv): string | null {
  const raw = env.RATES_URL?.trim();
  const appId = env.RATES_APP_ID?.trim();
  if (!raw) {
    if (appId) fail("RATES_APP_ID is set but RATES_URL is not: set RATES_URL to the latest.json address");
    return null;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(`RATES_URL must be an http(s) address of a latest.json, got "${raw.replace(/app_id=[^&]*/, "app_id=***")}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail("RATES_URL must start with http:// or https://");
  if (appId && !url.searchParams.has("app_id")) url.searchParams.set("app_id", appId);
  return url.toString();
}

function hours(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  const value = raw ? Number(raw) : fallback;
  if (!Number.isFinite(value) || value <= 0 || value > 168) fail(`${name} must be a number of hours above 0 and at most 168 (0.5 is 30 minutes), got "${raw}"`);
  return value;
}

/** WORKERS: a number of processes, or "auto" for one per core. Above 1, the metrics of all need METRICS_PORT. */
function workers(value: string | undefined, metricsPort: number | null): number {
  const v = value?.trim() || "1";
  const n = v === "auto" ? os.availableParallelism() : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) fail(`WORKERS must be a whole number from 1 to 64, or auto, got "${v}"`);
  if (n > 1 && metricsPort === null) fail("WORKERS above 1 needs METRICS_PORT: the primary process serves the workers' metrics, summed, there");
  return n;
}

function redisUrl(value: string | undefined): string | null {
  const v = value?.trim();
  if (!v) return null;
  if (!/^rediss?:\/\/[^\s]+$/.test(v)) fail("REDIS_URL must be redis://host:port[/db] or rediss:// (leave it unset to count limits in each process)");
  return v;
}

/** The default in production is Apollo Sandbox's origin only (https://studio.apollographql.com); elsewhere any. */
function corsOrigins(value: string | undefined, production: boolean): "*" | readonly string[] {
  const v = value?.trim();
  if (!v) return production ? Object.freeze(["https://studio.apollographql.com"]) : "*";
  if (v === "*") return "*";
  const origins = v.split(",").map(o => o.trim()).filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || parsed.origin !== origin) fail(`CORS_ORIGINS must be * or origins like https://shop.example separated by commas (scheme, host and port only), got "${origin}"`);
  }
  return Object.freeze(origins);
}

/** DATABASE_READ_URLS: mysql:// URLs separated by commas, only beside a DATABASE_URL. */
function readUrls(value: string | undefined, databaseUrl: string | null): readonly string[] {
  const urls = (value ?? "").split(",").map(u => u.trim()).filter(Boolean);
  if (urls.length > 0 && !databaseUrl) fail("DATABASE_READ_URLS needs DATABASE_URL: read replicas are replicas of a MySQL primary");
  for (const [i, url] of urls.entries()) if (!/^mysql:\/\/[^\s]+$/.test(url)) fail(`DATABASE_READ_URLS must be mysql:// URLs separated by commas; the ${ordinal(i + 1)} is not`);
  return Object.freeze(urls);
}

const ordinal = (n: number) => `${n}${n === 1 ? "st" : n === 2 ? "nd" : n === 3 ? "rd" : "th"}`;

/** Reads and validates the environment once; the only reader of process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const listenPort = port(env, "PORT", 4000)!;
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^mysql:\/\//.test(databaseUrl)) fail("DATABASE_URL must start with mysql:// (leave it unset for SQLite)");
  const nodeEnv = env.NODE_ENV?.trim() || "development";
  // Anything else ("prod", "Production") would silently mean development: CORS open, introspection on.
  if (!["development", "production", "test"].includes(nodeEnv)) fail(`NODE_ENV must be development, production or test, got "${nodeEnv}"`);
  const production = nodeEnv === "production";
  const metricsPort = port(env, "METRICS_PORT", null);
  return Object.freeze({
    port: listenPort,
    databaseUrl,
    sqlitePath: path.resolve(env.SQLITE_PATH ?? "data/analytics.sqlite"),
    nodeEnv,
    logSql: flag(env, "LOG_SQL", false),
    deletion: Object.freeze({
      chunkSize: whole(env, "DELETION_CHUNK_SIZE", 500, 1),
      pauseMs: whole(env, "DELETION_PAUSE_MS", 0, 0, MAX_TIMER_MS),
      leaseMs: whole(env, "DELETION_LEASE_MS", 30_000, 1_000, MAX_TIMER_MS),
    }),
    rateLimitWindowSeconds: whole(env, "RATE_LIMIT_WINDOW_SECONDS", 60, 1),
    rollupRefreshMs: whole(env, "ROLLUP_REFRESH_MS", 1000, 10, MAX_TIMER_MS),
    retentionPurgeMs: whole(env, "RETENTION_PURGE_MS", 3_600_000, 1000, MAX_TIMER_MS),
    shutdownTimeoutMs: whole(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, MAX_TIMER_MS),
    auditSecret: auditSecret(env.AUDIT_SECRET),
    auditSecretFile: path.resolve(env.AUDIT_SECRET_FILE ?? "data/audit-secret.key"),
    trustProxy: trustProxy(env.TRUST_PROXY),
    production,
    logLevel: logLevel(env.LOG_LEVEL),
    metricsPort,
    workers: workers(env.WORKERS, metricsPort),
    rates: Object.freeze({ url: ratesUrl(env), refreshMs: Math.round(hours(env, "RATES_REFRESH_HOURS", 1) * 3_600_000) }),
    corsOrigins: corsOrigins(env.CORS_ORIGINS, production),
    introspection: flag(env, "INTROSPECTION", !production),
    explorer: flag(env, "EXPLORER", !production),
    demoData: flag(env, "DEMO_DATA", nodeEnv === "development" && !databaseUrl),
    redis: Object.freeze({ url: redisUrl(env.REDIS_URL), failOpenSeconds: whole(env, "REDIS_FAIL_OPEN_SECONDS", 60, 0, 3600) }),
    replicas: Object.freeze({ urls: readUrls(env.DATABASE_READ_URLS, databaseUrl), maxLagSeconds: whole(env, "REPLICA_MAX_LAG_SECONDS", 30, 2, 86_400) }),
  });
}
