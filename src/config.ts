import path from "node:path";

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
}

function fail(message: string): never {
  throw new Error(`Invalid configuration: ${message}`);
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) fail(`${name} must be a whole number of at least ${min}, got "${env[name]}"`);
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

/** Reads and validates the environment once; the only reader of process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number, got "${env.PORT}"`);
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^mysql:\/\//.test(databaseUrl)) fail("DATABASE_URL must start with mysql:// (leave it unset for SQLite)");
  return Object.freeze({
    port,
    databaseUrl,
    sqlitePath: path.resolve(env.SQLITE_PATH ?? "data/analytics.sqlite"),
    nodeEnv: env.NODE_ENV ?? "development",
    logSql: env.LOG_SQL === "1",
    deletion: Object.freeze({
      chunkSize: whole(env, "DELETION_CHUNK_SIZE", 500, 1),
      pauseMs: whole(env, "DELETION_PAUSE_MS", 0, 0),
      leaseMs: whole(env, "DELETION_LEASE_MS", 30_000, 1_000),
    }),
    rateLimitWindowSeconds: whole(env, "RATE_LIMIT_WINDOW_SECONDS", 60, 1),
    rollupRefreshMs: whole(env, "ROLLUP_REFRESH_MS", 1000, 10),
    retentionPurgeMs: whole(env, "RETENTION_PURGE_MS", 3_600_000, 1000),
    shutdownTimeoutMs: whole(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0),
    auditSecret: auditSecret(env.AUDIT_SECRET),
    auditSecretFile: path.resolve(env.AUDIT_SECRET_FILE ?? "data/audit-secret.key"),
    trustProxy: trustProxy(env.TRUST_PROXY),
  });
}
