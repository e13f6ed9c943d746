import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** Bytes of a generated secret (HMAC-SHA-256's block is 64; 32 random bytes are its full strength). */
const SECRET_BYTES = 32;

/**
 * The installation's secret for the deletion audit: AUDIT_SECRET (hex) when set, else the file it was written to at
 * first start (created with mode 0600; kept outside the database, so a leaked dump cannot reverse the audit). Several
 * servers must share it, through the variable or the file, so that each finds the others' open requests.
 */
export function loadAuditSecret(hex: string | null, file: string): Buffer {
  if (hex !== null) return Buffer.from(hex, "hex");
  if (!fs.existsSync(file)) createSecretFile(file);
  const stored = fs.readFileSync(file, "utf8").trim();
  if (!/^([0-9a-f]{2}){32,}$/i.test(stored)) throw new Error(`${file} must hold at least 64 hex digits (the deletion audit's secret)`);
  return Buffer.from(stored, "hex");
}

/**
 * Writes a new secret to a file of its own, then links it in under `file` only if no other server has made one
 * meanwhile: the file appears whole or not at all, so servers starting at once all read the same complete secret
 * (writing `file` itself, another could read it still empty).
 */
function createSecretFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const draft = `${file}.${process.pid}.${randomBytes(6).toString("hex")}`;
  fs.writeFileSync(draft, `${randomBytes(SECRET_BYTES).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
  try {
    fs.linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

/**
 * What a deletion request keeps of a userId once it is done: an HMAC-SHA-256 under the installation's secret, not a
 * bare hash, which a dictionary of emails or customer numbers would reverse.
 */
export function userHash(secret: Buffer, appspaceId: number, userId: string): string {
  return createHmac("sha256", secret).update(`${appspaceId}:${userId}`).digest("hex");
}
