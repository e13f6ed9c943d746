import http from "node:http";
import { createAppspace } from "../src/appspaces/appspace.service";
import { createDataSource } from "../src/data-source";
import { createServer } from "../src/server";
import { loadRates } from "../src/ingest/rates/rates.service";
import { TRACK_EVENTS } from "./helpers/documents";
import { TEST_RATES } from "./helpers/harness";

/** A POST over `agent` (kept alive): its status, Connection header and body; `held` sends the body's end once it resolves. */
function post(agent: http.Agent, port: number, key: string, body: unknown, held: Promise<unknown> = Promise.resolve()) {
  return new Promise<{ status: number; connection: string | undefined; retryAfter: string | undefined; body: any }>((resolve, reject) => {
    const req = http.request({ port, host: "127.0.0.1", path: "/graphql", method: "POST", agent, headers: { "content-type": "application/json", authorization: `Bearer ${key}` } }, res => {
      let text = "";
      res.on("data", d => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection, retryAfter: res.headers["retry-after"], body: JSON.parse(text) }));
    });
    req.on("error", reject);
    const text = JSON.stringify(body);
    req.write(text.slice(0, 10));
    void held.then(() => req.end(text.slice(10)));
  });
}

/** Graceful stop of the HTTP side (the process-level test with SIGTERM under load is in faults.test.ts). */
describe("stopping a server", () => {
  it("answers a request on a kept-alive connection 503 UNAVAILABLE with Connection: close, and finishes the one in flight", async () => {
    const db = createDataSource({ databaseUrl: null, sqlitePath: ":memory:" });
    await db.initialize();
    await db.runMigrations();
    await loadRates(db, TEST_RATES);
    const { publishableKey } = await createAppspace(db, { name: "shop" });
    const running = await (await createServer(db, { rollupRefreshMs: 3_600_000 })).listen(0, "127.0.0.1");
    const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const busy = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const batch = (n: number) => ({ query: TRACK_EVENTS, variables: { events: Array.from({ length: 100 }, (_, i) => ({ eventType: "SEARCH", eventId: `${n}-${i}`, userId: `u${i}` })) } });
    try {
      // A connection left open after its request, as clients and load balancers keep them.
      expect((await post(idle, running.port, publishableKey, batch(1))).status).toBe(200);

      // In flight when the stop begins: its headers are in, the rest of its body comes after.
      let stopping!: () => void;
      const inFlight = post(busy, running.port, publishableKey, batch(2), new Promise(r => (stopping = () => r(undefined))));
      while (running.pending().requests === 0) await new Promise(r => setTimeout(r, 5));
      const stopped = running.stop();
      stopping();
      const late = await post(idle, running.port, publishableKey, batch(3));
      expect(late).toEqual({
        status: 503, connection: "close", retryAfter: "2",
        body: { errors: [{ message: "The server is shutting down; retry on another connection", extensions: { code: "UNAVAILABLE" } }] },
      });
      const first = await inFlight;
      expect({ status: first.status, connection: first.connection, data: first.body.data }).toEqual({ status: 200, connection: "close", data: { trackEvents: { ok: true, accepted: 100, errors: [] } } });
      await stopped;
      expect(running.pending()).toEqual({ requests: 0, workers: [] });
      const [row] = await db.query("SELECT COUNT(*) AS n FROM events");
      expect(row.n).toBe(200);
      await expect(post(new http.Agent(), running.port, publishableKey, batch(4))).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      idle.destroy();
      busy.destroy();
      await db.destroy();
    }
  });
});
