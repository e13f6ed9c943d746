import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createKey, listKeys, rotateKey } from "../src/appspaces/appspace.service";
import { dbTargets } from "./helpers/databases";
import { Harness, startHarness } from "./helpers/harness";
import { root, tsx } from "./helpers/process";

const run = promisify(execFile);
const OVERVIEW = `{ overview { days } }`;

describe.each(dbTargets())("key rotation on $name", target => {
  let h: Harness;
  let clock = new Date("2026-03-10T12:00:00Z");

  beforeAll(async () => {
    h = await startHarness(target, [], () => clock);
  });
  afterAll(() => h.close());

  it("keeps the old key working for the grace period, then refuses it", async () => {
    const { secretKey: old } = await h.appspace();
    const { key: fresh, oldKeyExpiresAt } = await rotateKey(h.db, old, 3_600_000, clock);
    expect(oldKeyExpiresAt.toISOString()).toBe("2026-03-10T13:00:00.000Z");
    expect(fresh).toMatch(/^sk_/);
    for (const key of [old, fresh]) expect((await h.gql(OVERVIEW, {}, key)).status).toBe(200);

    clock = new Date("2026-03-10T13:00:00Z");
    const refused = await h.gql(OVERVIEW, {}, old);
    expect(refused.status).toBe(401);
    expect(refused.body.errors![0]).toMatchObject({ message: "Unknown or revoked API key", extensions: { code: "UNAUTHENTICATED" } });
    expect((await h.gql(OVERVIEW, {}, fresh)).status).toBe(200);
    await expect(rotateKey(h.db, old, 0, clock)).rejects.toThrow("no live key matches");
  });

  it("gives the new key the old one's scopes and origins", async () => {
    const { appspaceId } = await h.appspace();
    const old = await createKey(h.db, appspaceId, "secret", { scopes: "people:read,reports:read", origins: "https://a.example" }, clock);
    expect(old).toEqual({ key: expect.stringMatching(/^sk_/), scopes: ["reports:read", "people:read"], origins: ["https://a.example"] });
    const { key: fresh } = await rotateKey(h.db, old.key, 0, clock);
    const [listed] = await listKeys(h.db, appspaceId, clock);
    expect(listed).toMatchObject({ prefix: fresh.slice(0, 11), scopes: ["reports:read", "people:read"], origins: ["https://a.example"] });
    expect((await h.gql(OVERVIEW, {}, fresh)).status).toBe(200);
    expect((await h.gql(`mutation { deleteUser(userId: "u") { id } }`, {}, fresh)).body.errors![0].extensions).toEqual({ code: "FORBIDDEN", scope: "people:delete" });
  });

  it("the KeyScopes migration leaves keys made before it able to do what they could: secret ones admin, publishable ones ingest", async () => {
    const before = await h.appspace();
    // Undone, the columns go: keys made narrower than their kind's default are revoked rather than widened.
    const { key: reader } = await createKey(h.db, before.appspaceId, "secret", { scopes: "reports:read" }, clock);
    const { key: limited } = await createKey(h.db, before.appspaceId, "publishable", { origins: "https://a.example" }, clock);
    const [last] = await h.db.query("SELECT name FROM migrations ORDER BY id DESC LIMIT 1");
    expect(last.name).toMatch(/^KeyScopes/);
    await h.db.undoLastMigration({ transaction: "each" });
    const runner = h.db.createQueryRunner();
    expect(await runner.hasColumn("api_keys", "scopes")).toBe(false);
    await runner.release();
    await h.db.runMigrations({ transaction: "each" });

    const listed = await listKeys(h.db, before.appspaceId, clock);
    expect(listed.map(k => [k.kind, k.scopes, k.origins, k.status])).toEqual([
      ["publishable", ["ingest"], null, "revoked"], ["secret", ["admin"], null, "revoked"], ["secret", ["admin"], null, "active"], ["publishable", ["ingest"], null, "active"],
    ]);
    for (const key of [reader, limited]) expect((await h.gql(OVERVIEW, {}, key)).status).toBe(401);
    expect((await h.gql(OVERVIEW, {}, before.secretKey)).status).toBe(200);
    expect((await h.gql(`mutation { deleteUser(userId: "u", dryRun: true) { status } }`, {}, before.secretKey)).status).toBe(200);
    const track = await h.gql(`mutation { trackEvent(event: { eventType: SEARCH }) { ok } }`, {}, before.publishableKey);
    expect(track.body).toEqual({ data: { trackEvent: { ok: true } } });
    expect((await h.gql(OVERVIEW, {}, before.publishableKey)).status).toBe(403);
  });

  it("trusts no scope a row was written without, and no more than ingest for a publishable key, whatever its row says", async () => {
    const { appspaceId, publishableKey, secretKey } = await h.appspace();
    await h.db.query("UPDATE api_keys SET scopes = 'ingest,admin,people:delete' WHERE appspace_id = ? AND kind = 'publishable'", [appspaceId]);
    const [{ id }] = await h.db.query("SELECT id FROM api_keys WHERE appspace_id = ? AND kind = 'secret'", [appspaceId]);
    // A row inserted without scopes (the column's default) has none.
    await h.db.query("INSERT INTO api_keys (appspace_id, kind, key_hash, prefix, created_at) SELECT appspace_id, kind, 'x', prefix, created_at FROM api_keys WHERE id = ?", [id]);
    expect(await h.db.query("SELECT scopes FROM api_keys WHERE key_hash = 'x'")).toEqual([{ scopes: "" }]);
    await h.db.query("DELETE FROM api_keys WHERE key_hash = 'x'");
    await h.db.query("UPDATE api_keys SET scopes = '' WHERE id = ?", [id]);

    const byPublishable = await h.gql(OVERVIEW, {}, publishableKey);
    expect(byPublishable.body.errors![0].extensions).toEqual({ code: "FORBIDDEN", scope: "reports:read" });
    expect((await h.gql(`mutation { trackEvent(event: { eventType: SEARCH }) { ok } }`, {}, publishableKey)).body).toEqual({ data: { trackEvent: { ok: true } } });
    const bySecret = await h.gql(OVERVIEW, {}, secretKey);
    expect(bySecret.body.errors![0]).toMatchObject({ message: "overview needs a key with the scope reports:read; this key has no scope", extensions: { code: "FORBIDDEN" } });
    expect((await listKeys(h.db, appspaceId, clock)).map(k => k.scopes)).toEqual([[], ["ingest"]]);
  });

  it.each([
    ["secret", { scopes: "reports:write" }, 'unknown scope "reports:write": scopes are ingest, reports:read, people:read, people:delete, admin'],
    ["secret", { scopes: " , " }, "--scopes must list one or more of ingest, reports:read, people:read, people:delete, admin"],
    ["publishable", { scopes: "reports:read" }, "a publishable key may only have the scope ingest: it is public; make a secret key to read or delete"],
    ["publishable", { scopes: "admin" }, "a publishable key may only have the scope ingest: it is public; make a secret key to read or delete"],
    ["secret", { origins: "https://a.example/shop" }, 'origin "https://a.example/shop" must be a scheme and host as a browser sends it, like https://shop.example or http://localhost:5173'],
    ["secret", { origins: "https://a.example/" }, 'origin "https://a.example/" must be a scheme and host as a browser sends it, like https://shop.example or http://localhost:5173'],
    ["secret", { origins: "a.example" }, 'origin "a.example" must be a scheme and host as a browser sends it, like https://shop.example or http://localhost:5173'],
    ["secret", { origins: "ftp://a.example" }, 'origin "ftp://a.example" must be a scheme and host as a browser sends it, like https://shop.example or http://localhost:5173'],
    ["secret", { origins: Array.from({ length: 21 }, (_, i) => `https://s${i}.example`).join(",") }, "--origins may list at most 20 origins"],
    ["secret", { origins: Array.from({ length: 20 }, (_, i) => `https://${["s", "t", "u", "v"].map(c => c.repeat(50)).join(".")}${i}.example`).join(",") }, "--origins may hold at most 4000 characters"],
  ] as const)("refuses a %s key with %j", async (kind, options, message) => {
    const { appspaceId } = await h.appspace();
    const before = await h.count("api_keys");
    await expect(createKey(h.db, appspaceId, kind, options)).rejects.toThrow(message);
    expect(await h.count("api_keys")).toBe(before);
  });
});

describe("the keys commands", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => (await run(tsx, ["src/appspaces/cli.ts", ...args], { cwd: root, env })).stdout;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "analytics-"));
    env = { ...process.env, SQLITE_PATH: path.join(dir, "db.sqlite"), DATABASE_URL: "" };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("list, create, rotate and revoke", async () => {
    const { secretKey, publishableKey } = JSON.parse(await cli("create", "--name", "shop", "--json"));
    const { key: extra } = JSON.parse(await cli("keys", "create", "--appspace", "1", "--kind", "publishable", "--json"));
    expect(extra).toMatch(/^pk_/);
    const rotated = JSON.parse(await cli("keys", "rotate", "--key", secretKey, "--grace-hours", "0", "--json"));
    expect(rotated.key).toMatch(/^sk_/);
    expect(await cli("keys", "revoke", "--key", publishableKey)).toBe("Revoked; the key is refused from its next request on.\n");

    const keys = JSON.parse(await cli("keys", "list", "--appspace", "1", "--json"));
    const view = keys.map((k: { kind: string; prefix: string; status: string }) => [k.kind, k.prefix, k.status]);
    expect(view).toEqual([
      ["secret", rotated.key.slice(0, 11), "active"],
      ["publishable", extra.slice(0, 11), "active"],
      ["secret", secretKey.slice(0, 11), "expired"],
      ["publishable", publishableKey.slice(0, 11), "revoked"],
    ]);
    await expect(cli("keys", "revoke", "--key", publishableKey)).rejects.toMatchObject({ code: 1, stderr: "error: no live key matches\n" });
    await expect(cli("keys", "create", "--appspace", "1", "--kind", "admin")).rejects.toMatchObject({ stderr: "error: kind must be publishable or secret\n" });
  });

  it("create --scopes and --origins: prints the key and what it may do; list shows it", async () => {
    const { appspaceId } = JSON.parse(await cli("create", "--name", "scoped", "--json"));
    const id = String(appspaceId);
    const out = await cli("keys", "create", "--appspace", id, "--kind", "secret", "--scopes", "reports:read", "--json");
    expect(Object.keys(JSON.parse(out))).toEqual(["key", "scopes"]);
    const reader = JSON.parse(out);
    expect(reader).toEqual({ key: expect.stringMatching(/^sk_[A-Za-z0-9_-]{43}$/), scopes: ["reports:read"] });
    const browser = JSON.parse(await cli("keys", "create", "--appspace", id, "--kind", "publishable", "--origins", "https://a.example,https://b.example", "--json"));
    expect(browser).toEqual({ key: expect.stringMatching(/^pk_/), scopes: ["ingest"], origins: ["https://a.example", "https://b.example"] });
    const text = await cli("keys", "create", "--appspace", id, "--kind", "secret", "--scopes", "people:read,people:delete");
    expect(text).toMatch(/^New key \(shown only this once\): sk_\S{43}\n {2}scopes: {2}people:read, people:delete\n {2}origins: any\n$/);

    const listed = JSON.parse(await cli("keys", "list", "--appspace", id, "--json"));
    expect(listed.map((k: { kind: string; scopes: string[]; origins: string[] | null }) => [k.kind, k.scopes, k.origins])).toEqual([
      ["secret", ["people:read", "people:delete"], null],
      ["publishable", ["ingest"], ["https://a.example", "https://b.example"]],
      ["secret", ["reports:read"], null],
      ["secret", ["admin"], null],
      ["publishable", ["ingest"], null],
    ]);
    const lines = (await cli("keys", "list", "--appspace", id)).trim().split("\n");
    expect(lines[1]).toMatch(/^pk_\S{8}… {2}publishable {2}active {4}ingest {8}created \S+ {2}origins https:\/\/a\.example,https:\/\/b\.example$/);
    expect(lines[2]).toMatch(/^sk_\S{8}… {2}secret {7}active {4}reports:read {2}created \S+$/);
    await expect(cli("keys", "create", "--appspace", id, "--kind", "secret", "--scopes")).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: --scopes needs a value\n/) });
    await expect(cli("keys", "create", "--appspace", id, "--kind", "publishable", "--scopes", "reports:read"))
      .rejects.toMatchObject({ code: 1, stderr: "error: a publishable key may only have the scope ingest: it is public; make a secret key to read or delete\n" });
  });

  it("settings: stores validated overrides", async () => {
    const { appspaceId } = JSON.parse(await cli("create", "--name", "s", "--json"));
    const settings = JSON.parse(await cli("settings", "--appspace", String(appspaceId), "--set", '{"maxOrderValue": 500, "severities": {"bot": 1}}', "--json"));
    expect(settings).toMatchObject({ maxOrderValue: 500, severities: { bot: 1, currency: 2 }, monthlyEventQuota: 10_000_000 });
    await expect(cli("settings", "--appspace", String(appspaceId), "--set", '{"severities": {"bot": 3}}'))
      .rejects.toMatchObject({ stderr: "error: severities.bot must be 1 (flag) or 2 (block)\n" });
  });
});
