import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { root, ServerProcess, startServerProcess } from "./helpers/process";

const run = promisify(execFile);
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");

/** Markdown with its fenced code blocks blanked out (spaces: every offset stays). */
const prose = (md: string) => md.replace(/^```[\s\S]*?^```$/gm, block => block.replace(/[^\n]/g, " "));

/** The fenced code blocks of a markdown text, in order: their language and their text. */
const fences = (md: string) => [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang, body]) => ({ lang, body }));

/** The section of a markdown text that starts at `heading`, up to the next heading of its level or above. */
function section(md: string, heading: string): string {
  const start = md.indexOf(`\n${heading}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const level = /^#+/.exec(heading)![0].length;
  const rest = start + heading.length + 2;
  const next = [...prose(md).slice(rest).matchAll(/^(#+) /gm)].find(m => m[1].length <= level);
  return md.slice(start + 1, next ? rest + next.index! : undefined);
}

/** A heading's anchor as GitHub makes it: lowercase, punctuation but '-' and '_' dropped, spaces to '-'. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");

/** The anchors of a markdown file's headings, a repeated one numbered as GitHub numbers it (-1, -2, …). */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, text] of prose(md).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(text.replace(/`/g, ""));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

describe("the README's first screen reaches a first report", () => {
  let dir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "analytics-readme-"));
    // `npm start` as the README runs it: development, SQLite on a fresh file, nothing else set (DEMO_DATA on).
    const { DEMO_DATA: _demo, ...env } = process.env;
    server = await startServerProcess({
      ...env, NODE_ENV: "development", LOG_LEVEL: "info", DATABASE_URL: "", SQLITE_PATH: path.join(dir, "db.sqlite"),
      AUDIT_SECRET_FILE: path.join(dir, "audit-secret.key"),
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const readme = read("README.md");
  const quickstart = section(readme, "## Quickstart");
  const origin = () => new URL(server.url).origin;
  /** The README's text with its port replaced by the test server's. */
  const here = (text: string) => text.replaceAll("http://localhost:4000", origin());

  it("prints what the README shows npm start printing", () => {
    const blocks = fences(quickstart);
    const start = blocks.findIndex(b => b.lang === "sh" && b.body === "npm install && npm start\n");
    expect(start).toBeGreaterThanOrEqual(0);
    const block = blocks[start + 1].body;
    expect(block).toContain("publishable key: pk_…");
    const lines = server.out().split("\n");
    let at = 0;
    for (const line of block.split("\n").filter(l => l.trim() && l !== "…")) {
      const pattern = new RegExp(`^${here(line).split("…").map(s => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
      const found = lines.findIndex((l, i) => i >= at && pattern.test(l));
      expect([line, found >= 0]).toEqual([line, true]);
      at = found + 1;
    }
  });

  it("sends the first event and reads the first report with the README's curl commands", async () => {
    const PK = /publishable key: (pk_\S+)/.exec(server.out())![1];
    const SK = /secret key: +(sk_\S+)/.exec(server.out())![1];
    const blocks = fences(quickstart).filter(b => b.lang === "sh" && b.body.includes("curl")).map(b => b.body);
    expect(blocks).toHaveLength(2);
    const [track, overview] = blocks;
    expect(track).toContain("trackEvent");
    expect(track).toContain('"Authorization: Bearer $PK"');
    expect(overview).toContain("overview");
    expect(overview).toContain('"Authorization: Bearer $SK"');
    for (const block of blocks) expect(block).toContain("http://localhost:4000/graphql");
    /** The answer the README shows under a command: its `# {…}` line. */
    const shown = (block: string) => /^# (\{.*\})$/m.exec(block)![1];
    const sh = async (block: string) => (await run("bash", ["-c", here(block)], { env: { ...process.env, PK, SK } })).stdout.trim();

    const before = JSON.parse(await sh(overview)).data.overview;
    expect(before.totalOrders).toBeGreaterThan(0); // the demo's week of orders

    const tracked = await sh(track);
    expect(tracked).toBe('{"data":{"trackEvent":{"ok":true}}}');
    expect(tracked).toBe(shown(track));

    const answer = await sh(overview);
    const after = JSON.parse(answer).data.overview;
    const revenue = Number(/"revenue":([\d.]+)/.exec(track)![1]);
    expect(after).toEqual({ ...before, totalOrders: before.totalOrders + 1, totalRevenue: Math.round((before.totalRevenue + revenue) * 100) / 100 });
    // The demo data is generated from a fixed seed: the README shows the very answer.
    expect(answer).toBe(shown(overview));
    expect(quickstart).toContain(`${after.totalOrders} orders: the demo's ${before.totalOrders} and yours`);

    // Sent again, the purchase is still one order.
    expect(await sh(track)).toBe(shown(track));
    expect(await sh(overview)).toBe(answer);
  }, 60_000);

  it("has the curl commands on its first screen, and is a quickstart, not the reference", () => {
    const lines = readme.split("\n");
    const lastCurl = lines.findLastIndex(l => l.startsWith("curl "));
    expect(lastCurl).toBeGreaterThan(0);
    const blockEnd = lines.findIndex((l, i) => i > lastCurl && l === "```");
    expect(blockEnd + 1).toBeLessThanOrEqual(80);
    expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(220);
  });

  it("links every docs page, and its configuration table names variables of the full one", () => {
    const pages = fs.readdirSync(path.join(root, "docs")).filter(f => f.endsWith(".md"));
    for (const page of pages) expect([page, readme.includes(`](docs/${page})`)]).toEqual([page, true]);
    const names = (md: string) => [...md.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map(m => m[1]);
    const essentials = names(section(readme, "## Configuration"));
    expect(essentials).toEqual(expect.arrayContaining(["PORT", "DATABASE_URL", "NODE_ENV", "LOG_LEVEL"]));
    const operating = read("docs/operating.md");
    expect(names(section(operating, "## Configuration"))).toEqual(expect.arrayContaining(essentials));
  });

  it("has no link to a missing file or heading, in the README and docs/", () => {
    const files = ["README.md", ...fs.readdirSync(path.join(root, "docs")).filter(f => f.endsWith(".md")).map(f => `docs/${f}`)];
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      const text = prose(read(file)).replace(/`[^`\n]*`/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        checked++;
        const [where, anchor] = target.split("#");
        const resolved = where ? path.join(path.dirname(file), decodeURIComponent(where)) : file;
        if (!fs.existsSync(path.join(root, resolved))) {
          broken.push(`${file}: ${target} (no ${resolved})`);
        } else if (anchor !== undefined && !(resolved.endsWith(".md") && anchors(read(resolved)).has(anchor))) {
          broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });
});
