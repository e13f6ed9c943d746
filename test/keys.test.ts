import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { rotateKey } from "../src/appspaces/appspace.service";
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

  it("settings: stores validated overrides", async () => {
    const { appspaceId } = JSON.parse(await cli("create", "--name", "s", "--json"));
    const settings = JSON.parse(await cli("settings", "--appspace", String(appspaceId), "--set", '{"maxOrderValue": 500, "severities": {"bot": 1}}', "--json"));
    expect(settings).toMatchObject({ maxOrderValue: 500, severities: { bot: 1, currency: 2 }, monthlyEventQuota: 10_000_000 });
    await expect(cli("settings", "--appspace", String(appspaceId), "--set", '{"severities": {"bot": 3}}'))
      .rejects.toMatchObject({ stderr: "error: severities.bot must be 1 (flag) or 2 (block)\n" });
  });
});
