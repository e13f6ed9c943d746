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
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // "wx": two servers starting at once never overwrite each other's secret; the second reads the first's.
    fs.writeFileSync(file, `${randomBytes(SECRET_BYTES).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const stored = fs.readFileSync(file, "utf8").trim();
  if (!/^([0-9a-f]{2}){32,}$/i.test(stored)) throw new Error(`${file} must hold at least 64 hex digits (the deletion audit's secret)`);
  return Buffer.from(stored, "hex");
}

/**
 * What a deletion request keeps of a userId once it is done: an HMAC-SHA-256 under the installation's secret, not a
 * bare hash, which a dictionary of emails or customer numbers would reverse.
 */
export function userHash(secret: Buffer, appspaceId: number, userId: string): string {
  return createHmac("sha256", secret).update(`${appspaceId}:${userId}`).digest("hex");
}
