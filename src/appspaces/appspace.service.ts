import { DataSource } from "typeorm";
import { isKnownCurrency } from "../ingest/money";
import { fromDbTime, withTransaction } from "../db/sql";
import { ApiKey, KeyKind } from "./api-key.entity";
import { Appspace, Plan, PLANS } from "./appspace.entity";
import { displayPrefix, generateKey, hashKey } from "./keys";

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
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) throw new Error("retention must be 1 to 3650 days");
  if (!PLANS.includes(plan)) throw new Error(`plan must be one of ${PLANS.join(", ")}`);

  const publishableKey = generateKey("publishable");
  const secretKey = generateKey("secret");
  const now = new Date();
  const appspaceId = await withTransaction(db, async em => {
    const saved = await em.getRepository(Appspace).insert({ name, baseCurrency: currency, retentionDays, plan, createdAt: now });
    const id = Number(saved.identifiers[0].id);
    await em.getRepository(ApiKey).insert([
      { appspaceId: id, kind: "publishable", keyHash: hashKey(publishableKey), prefix: displayPrefix(publishableKey), createdAt: now },
      { appspaceId: id, kind: "secret", keyHash: hashKey(secretKey), prefix: displayPrefix(secretKey), createdAt: now },
    ]);
    return id;
  });
  return { appspaceId, publishableKey, secretKey };
}

/** The appspace and kind of a live key, or null for an unknown, revoked or expired one. */
export async function authenticate(db: DataSource, key: string, now = new Date()): Promise<Authenticated | null> {
  if (!/^(pk|sk)_[A-Za-z0-9_-]{20,100}$/.test(key)) return null;
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT k.id AS key_id, k.kind, k.expires_at, a.id, a.name, a.base_currency, a.retention_days, a.plan, a.created_at, a.settings
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
  return { appspace, keyKind: row.kind as KeyKind, keyId: Number(row.key_id) };
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
