import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { createAppspace } from "../src/appspaces/appspace.service";
import { createDataSource } from "../src/data-source";
import { loadRates } from "../src/ingest/rates/rates.service";
import { createServer } from "../src/server";
import { TRACK_EVENTS } from "./helpers/documents";
import { TEST_RATES } from "./helpers/harness";

/**
 * A database that stays busy past the server's waits answers 503 UNAVAILABLE with Retry-After, not 500: nothing
 * was stored and the same request may be sent again. (Outages of MariaDB under load: faults.test.ts.)
 */
describe("a database busy past the waits", () => {
  it("answers 503 UNAVAILABLE with Retry-After, stores nothing, and 200 once it is free", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "busy-"));
    const file = path.join(dir, "db.sqlite");
    const db = createDataSource({ databaseUrl: null, sqlitePath: file });
    await db.initialize();
    await db.runMigrations();
    await loadRates(db, TEST_RATES);
    const { publishableKey } = await createAppspace(db, { name: "shop" });
    const running = await (await createServer(db, { rollupRefreshMs: 3_600_000 })).listen(0, "127.0.0.1");
    // Another process's writer holds the database (for longer than the server's 5 s busy timeout).
    const other = new Database(file);
    other.exec("BEGIN IMMEDIATE");
    const send = () => fetch(running.url, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${publishableKey}` },
      body: JSON.stringify({ query: TRACK_EVENTS, variables: { events: [{ eventType: "SEARCH", eventId: "s-1", userId: "u" }] } }),
    });
    try {
      const res = await send();
      expect({ status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() }).toEqual({
        status: 503, retryAfter: "2", body: { data: null, errors: [{ message: "The database is busy; retry later", extensions: { code: "UNAVAILABLE" } }] },
      });
      other.exec("ROLLBACK");
      const again = await send();
      expect({ status: again.status, body: await again.json() }).toEqual({ status: 200, body: { data: { trackEvents: { ok: true, accepted: 1, errors: [] } } } });
      const [row] = await db.query("SELECT COUNT(*) AS n FROM events");
      expect(row.n).toBe(1);
    } finally {
      other.close();
      await running.stop();
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
