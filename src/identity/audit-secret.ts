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
 * Writes a new secret to a draft file of its own, then links it in under `file` only if no other server has made one
 * meanwhile: the file appears whole or not at all, so servers starting at once all read the same complete secret
 * (writing `file` itself, another could read it still empty). A filesystem without hard links (some network shares)
 * gets an exclusive copy instead.
 */
function createSecretFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const draft = `${file}.${process.pid}.${randomBytes(6).toString("hex")}`;
  try {
    writeDurably(draft, `${randomBytes(SECRET_BYTES).toString("hex")}\n`);
    try {
      fs.linkSync(draft, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EPERM" || code === "ENOTSUP" || code === "ENOSYS") fs.copyFileSync(draft, file, fs.constants.COPYFILE_EXCL);
      else throw err;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

/** A new file (mode 0600) holding `text`, on disk before it returns: a power cut never leaves a secret file empty. */
function writeDurably(file: string, text: string): void {
  const fd = fs.openSync(file, "wx", 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * What a deletion request keeps of a userId once it is done: an HMAC-SHA-256 under the installation's secret, not a
 * bare hash, which a dictionary of emails or customer numbers would reverse.
 */
export function userHash(secret: Buffer, appspaceId: number, userId: string): string {
  return createHmac("sha256", secret).update(`${appspaceId}:${userId}`).digest("hex");
}
