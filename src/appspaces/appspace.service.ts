import { DataSource } from "typeorm";
import { isKnownCurrency } from "../money";
import { fromDbTime, withTransaction } from "../db/sql";
import { ApiKey, KeyKind } from "./api-key.entity";
import { Appspace, Plan, PLANS } from "./appspace.entity";
import { displayPrefix, generateKey, hashKey } from "./keys";
import { AppspaceSettings, checkSettings, settingsOf } from "./settings";
import { DEFAULT_SCOPES, parseOrigins, parseScopes, Scope, storedOrigins, storedScopes } from "./scopes";

export interface NewAppspace {
  name: string;
  currency?: string;
  retentionDays?: number;
  plan?: Plan;
}

export interface CreatedAppspace {
  appspaceId: number;
  publishableKey: string;
  secretKey: string;
}

export interface Authenticated {
  appspace: Appspace;
  keyKind: KeyKind;
  keyId: number;
  scopes: Scope[];
  /** The origins a browser may send the key from; null: any. */
  origins: string[] | null;
}

function checkRetention(days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error("retention must be 1 to 3650 days");
}

/** Changes how many days an appspace keeps: reports and ingest follow at once, the purge deletes older data on its next run. */
export async function setRetention(db: DataSource, appspaceId: number, days: number): Promise<void> {
  checkRetention(days);
  const result = await db.getRepository(Appspace).update({ id: appspaceId }, { retentionDays: days });
  if (!result.affected) throw new Error(`no appspace ${appspaceId}`);
}

/** Creates an appspace with one publishable and one secret key; the keys are returned once and stored only as hashes. */
export async function createAppspace(db: DataSource, input: NewAppspace): Promise<CreatedAppspace> {
  const name = input.name.trim();
  const currency = (input.currency ?? "USD").toUpperCase();
  const retentionDays = input.retentionDays ?? 365;
  const plan = input.plan ?? "pro";
  if (!name || name.length > 100) throw new Error("name must be 1 to 100 characters");
  if (!isKnownCurrency(currency)) throw new Error(`currency must be an ISO 4217 code, got "${input.currency}"`);
  if ((await db.query("SELECT currency FROM exchange_rates WHERE currency = ? LIMIT 1", [currency])).length === 0) {
    throw new Error(`currency ${currency} has no exchange rate on this server`);
  }
  checkRetention(retentionDays);
  if (!PLANS.includes(plan)) throw new Error(`plan must be one of ${PLANS.join(", ")}`);

  const publishableKey = generateKey("publishable");
  const secretKey = generateKey("secret");
  const now = new Date();
  const appspaceId = await withTransaction(db, async em => {
    const saved = await em.getRepository(Appspace).insert({ name, baseCurrency: currency, retentionDays, plan, createdAt: now });
    const id = Number(saved.identifiers[0].id);
    await em.getRepository(ApiKey).insert([keyRow(id, publishableKey, "publishable", DEFAULT_SCOPES.publishable, null, now), keyRow(id, secretKey, "secret", DEFAULT_SCOPES.secret, null, now)]);
    return id;
  });
  return { appspaceId, publishableKey, secretKey };
}

function keyRow(appspaceId: number, key: string, kind: KeyKind, scopes: readonly Scope[], origins: readonly string[] | null, createdAt: Date) {
  return { appspaceId, kind, keyHash: hashKey(key), prefix: displayPrefix(key), scopes: scopes.join(","), allowedOrigins: origins?.join(",") ?? null, createdAt };
}

/** The appspace, kind and scopes of a live key, or null for an unknown, revoked or expired one. */
export async function authenticate(db: DataSource, key: string, now = new Date()): Promise<Authenticated | null> {
  if (!/^(pk|sk)_[A-Za-z0-9_-]{20,100}$/.test(key)) return null;
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT k.id AS key_id, k.kind, k.scopes, k.allowed_origins, k.expires_at, a.id, a.name, a.base_currency, a.retention_days, a.plan, a.created_at, a.settings
       FROM api_keys k JOIN appspaces a ON a.id = k.appspace_id
      WHERE k.key_hash = ? AND k.revoked_at IS NULL`,
    [hashKey(key)],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.expires_at && fromDbTime(row.expires_at as string).getTime() <= now.getTime()) return null;
  const appspace = Object.assign(new Appspace(), {
    id: Number(row.id), name: row.name, baseCurrency: row.base_currency, retentionDays: Number(row.retention_days),
    plan: row.plan, createdAt: fromDbTime(row.created_at as string), settings: (row.settings as string | null) ?? null,
  });
  return {
    appspace, keyKind: row.kind as KeyKind, keyId: Number(row.key_id), scopes: storedScopes(row.scopes as string, row.kind as KeyKind),
    origins: storedOrigins(row.allowed_origins as string | null),
  };
}

/** Revokes a key by its full value; it is refused from its next request on. */
export async function revokeKey(db: DataSource, key: string, now = new Date()): Promise<boolean> {
  const result = await withTransaction(db, em => em.createQueryBuilder().update(ApiKey).set({ revokedAt: now })
    .where("key_hash = :hash AND revoked_at IS NULL", { hash: hashKey(key) }).execute());
  return (result.affected ?? 0) > 0;
}

export async function countAppspaces(db: DataSource): Promise<number> {
  return db.getRepository(Appspace).count();
}

export interface KeyListing {
  id: number;
  kind: KeyKind;
  prefix: string;
  scopes: Scope[];
  origins: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: "active" | "expiring" | "expired" | "revoked";
}

/** The keys of an appspace, newest first, as prefixes (the keys themselves are not stored). */
export async function listKeys(db: DataSource, appspaceId: number, now = new Date()): Promise<KeyListing[]> {
  const keys = await db.getRepository(ApiKey).find({ where: { appspaceId }, order: { id: "DESC" } });
  return keys.map(k => ({
    id: k.id,
    kind: k.kind,
    prefix: k.prefix,
    scopes: storedScopes(k.scopes, k.kind),
    origins: storedOrigins(k.allowedOrigins),
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    status: k.revokedAt ? "revoked" : !k.expiresAt ? "active" : k.expiresAt.getTime() <= now.getTime() ? "expired" : "expiring",
  }));
}

export interface KeyOptions {
  /** Comma-separated scopes (scopes.ts); by default admin for a secret key, ingest for a publishable one. */
  scopes?: string;
  /** Comma-separated origins a browser may send the key from; by default any. */
  origins?: string;
}

export interface CreatedKey {
  key: string;
  scopes: Scope[];
  origins: string[] | null;
}

/** A new key of the appspace; returned once. */
export async function createKey(db: DataSource, appspaceId: number, kind: KeyKind, options: KeyOptions = {}, now = new Date()): Promise<CreatedKey> {
  if (kind !== "publishable" && kind !== "secret") throw new Error("kind must be publishable or secret");
  const scopes = options.scopes === undefined ? [...DEFAULT_SCOPES[kind]] : parseScopes(options.scopes, kind);
  const origins = options.origins === undefined ? null : parseOrigins(options.origins);
  if (!(await db.getRepository(Appspace).existsBy({ id: appspaceId }))) throw new Error(`no appspace ${appspaceId}`);
  const key = generateKey(kind);
  await db.getRepository(ApiKey).insert(keyRow(appspaceId, key, kind, scopes, origins, now));
  return { key, scopes, origins };
}

/**
 * Replaces a live key with a new one of the same kind, scopes and origins; the old key keeps working
 * for `graceMs` (so clients can move over), then is refused.
 */
export async function rotateKey(db: DataSource, key: string, graceMs: number, now = new Date()): Promise<{ key: string; oldKeyExpiresAt: Date }> {
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new Error("the grace period must be 0 or more");
  return withTransaction(db, async em => {
    const repo = em.getRepository(ApiKey);
    const old = await repo.findOneBy({ keyHash: hashKey(key) });
    if (!old || old.revokedAt || (old.expiresAt && old.expiresAt.getTime() <= now.getTime())) throw new Error("no live key matches");
    const expires = new Date(Math.min(now.getTime() + graceMs, old.expiresAt?.getTime() ?? Infinity));
    await repo.update({ id: old.id }, { expiresAt: expires });
    // The new key can do what the old one could, from where it could.
    const fresh = generateKey(old.kind);
    await repo.insert(keyRow(old.appspaceId, fresh, old.kind, storedScopes(old.scopes, old.kind), storedOrigins(old.allowedOrigins), now));
    return { key: fresh, oldKeyExpiresAt: expires };
  });
}

/** Stores settings overrides (merged into those already stored); see settings.ts. */
export async function updateSettings(db: DataSource, appspaceId: number, overrides: Partial<AppspaceSettings>): Promise<AppspaceSettings> {
  checkSettings(overrides);
  return withTransaction(db, async em => {
    const repo = em.getRepository(Appspace);
    const appspace = await repo.findOneBy({ id: appspaceId });
    if (!appspace) throw new Error(`no appspace ${appspaceId}`);
    const merged = { ...(appspace.settings ? JSON.parse(appspace.settings) : {}), ...overrides };
    await repo.update({ id: appspaceId }, { settings: JSON.stringify(merged) });
    return settingsOf({ plan: appspace.plan, settings: JSON.stringify(merged) });
  });
}
