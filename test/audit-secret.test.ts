import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { loadConfig } from "../src/config";
import { loadAuditSecret, userHash } from "../src/identity/audit-secret";

describe("the deletion audit's secret", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is made at first start in its file, readable by the owner only, and the same at every start after", () => {
    const file = path.join(dir, "nested", "audit-secret.key");
    const first = loadAuditSecret(null, file);
    expect(first).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadAuditSecret(null, file).equals(first)).toBe(true);
    expect(userHash(first, 1, "alice@example.com")).toBe(userHash(loadAuditSecret(null, file), 1, "alice@example.com"));
  });

  it("is the same for servers that start at once on a fresh install, each reading it whole", async () => {
    const file = path.join(dir, "together", "audit-secret.key");
    // Each process, once loaded, sleeps (without using the CPU) until the same moment, then loads the secret.
    const at = Date.now() + 3000;
    const load = `const { loadAuditSecret } = require("./src/identity/audit-secret");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ${at} - Date.now()));
      process.stdout.write(loadAuditSecret(null, ${JSON.stringify(file)}).toString("hex"))`;
    const started = Array.from({ length: 6 }, () =>
      promisify(execFile)(process.execPath, ["--import", "tsx", "-e", load], { cwd: path.join(__dirname, ".."), timeout: 30_000 }));
    const secrets = (await Promise.all(started)).map(r => r.stdout);
    expect(secrets[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(secrets)).toEqual(new Set([secrets[0]]));
    expect(fs.readFileSync(file, "utf8")).toBe(`${secrets[0]}\n`);
    // No draft is left beside it.
    expect(fs.readdirSync(path.dirname(file))).toEqual(["audit-secret.key"]);
  }, 60_000);

  it("reads the secret another server linked in first, and leaves no draft of its own", () => {
    const file = path.join(dir, "second", "audit-secret.key");
    const theirs = loadAuditSecret(null, file);
    // As if the other server linked its file in between this one's look and its own link.
    const looked = jest.spyOn(fs, "existsSync").mockReturnValueOnce(false);
    try {
      expect(loadAuditSecret(null, file).equals(theirs)).toBe(true);
    } finally {
      looked.mockRestore();
    }
    expect(fs.readdirSync(path.dirname(file))).toEqual(["audit-secret.key"]);
  });

  it("is copied in exclusively where the filesystem has no hard links, and keeps mode 0600", () => {
    const file = path.join(dir, "no-links", "audit-secret.key");
    const link = jest.spyOn(fs, "linkSync").mockImplementation(() => {
      throw Object.assign(new Error("operation not permitted"), { code: "EPERM" });
    });
    try {
      const secret = loadAuditSecret(null, file);
      expect(link).toHaveBeenCalledTimes(1);
      expect(fs.readFileSync(file, "utf8")).toBe(`${secret.toString("hex")}\n`);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      link.mockRestore();
    }
    expect(fs.readdirSync(path.dirname(file))).toEqual(["audit-secret.key"]);
  });

  it("comes from AUDIT_SECRET when set, for servers on several machines", () => {
    const hex = "ab".repeat(32);
    expect(loadAuditSecret(hex, path.join(dir, "unused.key")).toString("hex")).toBe(hex);
    expect(fs.existsSync(path.join(dir, "unused.key"))).toBe(false);
    expect(loadConfig({ AUDIT_SECRET: hex }).auditSecret).toBe(hex);
    expect(() => loadConfig({ AUDIT_SECRET: "short" })).toThrow("AUDIT_SECRET must be at least 64 hex digits (32 random bytes: openssl rand -hex 32)");
  });

  it("refuses a file that does not hold a secret", () => {
    const file = path.join(dir, "bad.key");
    fs.writeFileSync(file, "not a secret");
    expect(() => loadAuditSecret(null, file)).toThrow(`${file} must hold at least 64 hex digits (the deletion audit's secret)`);
  });

  it("keys the hash: another installation's secret gives another hash of the same userId", () => {
    const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    expect(userHash(a, 7, "alice")).toMatch(/^[0-9a-f]{64}$/);
    expect(userHash(a, 7, "alice")).not.toBe(userHash(b, 7, "alice"));
    expect(userHash(a, 7, "alice")).not.toBe(userHash(a, 8, "alice"));
  });

  it("TRUST_PROXY takes Express's values and refuses others", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "1" }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8" }).trustProxy).toBe("loopback, 10.0.0.0/8");
    expect(() => loadConfig({ TRUST_PROXY: "a;b" })).toThrow('TRUST_PROXY must be true, false, a number of proxies, or addresses and subnets separated by commas, got "a;b"');
  });
});
