import { KeyKind } from "./api-key.entity";

/**
 * What a key may do. A secret key carries one or more scopes (admin, everything, unless it was made with fewer);
 * a publishable key, which lives in web pages and apps, only ever `ingest`. A dashboard or BI tool that reads
 * reports gets a `reports:read` key, which can neither send events nor read or delete a person's data.
 */
export const SCOPES = ["ingest", "reports:read", "people:read", "people:delete", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** What each scope opens, in words, for the CLI's help; test/isolation.test.ts checks every resolver's @NeedsScope against the same table. */
export const SCOPE_OPERATIONS: Record<Scope, string> = {
  ingest: "trackEvent, trackEvents",
  "reports:read": "every report and ingestionStats",
  "people:read": "userJourney, userDeletion",
  "people:delete": "deleteUser, userDeletion",
  admin: "everything",
};

export const DEFAULT_SCOPES: Record<KeyKind, readonly Scope[]> = { publishable: ["ingest"], secret: ["admin"] };

/** Whether a key with `held` may do what `needed` opens. */
export function allows(held: readonly Scope[], needed: Scope): boolean {
  return held.includes("admin") || held.includes(needed);
}

/** `reports:read,people:read` → checked scopes, in SCOPES order; a publishable key may only have `ingest`. */
export function parseScopes(text: string, kind: KeyKind): Scope[] {
  const names = text.split(",").map(s => s.trim()).filter(Boolean);
  if (names.length === 0) throw new Error(`--scopes must list one or more of ${SCOPES.join(", ")}`);
  const unknown = names.filter(n => !(SCOPES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown scope ${unknown.map(n => `"${n}"`).join(", ")}: scopes are ${SCOPES.join(", ")}`);
  const scopes = SCOPES.filter(s => names.includes(s));
  if (kind === "publishable" && scopes.some(s => s !== "ingest")) {
    throw new Error("a publishable key may only have the scope ingest: it is public; make a secret key to read or delete");
  }
  return scopes;
}

/**
 * A key's scopes as stored (`api_keys.scopes`, comma-separated): anything unknown there is dropped rather than
 * trusted, and a publishable key keeps ingest at most, whatever a row says.
 */
export function storedScopes(text: string, kind: KeyKind): Scope[] {
  const names = text.split(",");
  return SCOPES.filter(s => names.includes(s) && (kind === "secret" || s === "ingest"));
}

/** A key's origins as stored (`api_keys.allowed_origins`, comma-separated); null: any. */
export function storedOrigins(text: string | null): string[] | null {
  return text ? text.split(",") : null;
}

const MAX_ORIGINS = 20;
/** The room of api_keys.allowed_origins. */
const MAX_ORIGINS_LENGTH = 4000;

/**
 * `https://a.example,http://localhost:5173` → checked origins, as browsers send them in `Origin`: scheme, host and
 * port only, no path, no trailing slash.
 */
export function parseOrigins(text: string): string[] {
  const origins = [...new Set(text.split(",").map(s => s.trim()).filter(Boolean))];
  if (origins.length === 0) throw new Error("--origins must list one or more origins, like https://shop.example");
  if (origins.length > MAX_ORIGINS) throw new Error(`--origins may list at most ${MAX_ORIGINS} origins`);
  if (origins.join(",").length > MAX_ORIGINS_LENGTH) throw new Error(`--origins may hold at most ${MAX_ORIGINS_LENGTH} characters`);
  for (const origin of origins) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || !["http:", "https:"].includes(parsed.protocol) || parsed.origin !== origin) {
      throw new Error(`origin "${origin}" must be a scheme and host as a browser sends it, like https://shop.example or http://localhost:5173`);
    }
  }
  return origins;
}
