import { createHash, randomBytes } from "node:crypto";
import { KeyKind } from "./api-key.entity";

const PREFIX: Record<KeyKind, string> = { publishable: "pk_", secret: "sk_" };

/** A new key: prefix plus 32 random bytes (256 bits) in base64url. */
export function generateKey(kind: KeyKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

/** Keys are high-entropy, so a fast unsalted hash is enough to make a stolen table useless. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** What listings show of a key: its kind prefix and first characters. */
export function displayPrefix(key: string): string {
  return key.slice(0, 11);
}
