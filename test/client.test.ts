import http from "node:http";
import { AddressInfo } from "node:net";
import { AnalyticsClient, DropReason, EventInput, Rejection } from "../clients/node/src";
import { CreatedAppspace } from "../src/appspaces/appspace.service";
import { dbTargets } from "./helpers/databases";
import { Harness, startHarness } from "./helpers/harness";

/*
 * The ingestion client (clients/node) against a real server, through a proxy that answers 503 and 429 part of the
 * time, drops connections, and sometimes loses the server's answer after the server stored the batch: every event arrives exactly once;
 * a refusal reaches onRejected and is not sent again; close() sends what is queued; a full queue drops the oldest.
 */

/** What the proxy did to each request: passed, refused (429/503 without forwarding), or forwarded and answer lost. */
type Fate = "passed" | "429" | "503" | "stored, answered 503" | "connection dropped";

/** A proxy in front of the server; `fate(n)` decides the n-th request's (from 0). */
async function flakyProxy(target: string, fate: (n: number) => Fate, retryAfter = "0") {
  const seen: { fate: Fate; at: number; body: string }[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const f = fate(seen.length);
    seen.push({ fate: f, at: Date.now(), body });
    if (f === "connection dropped") return void req.socket.destroy();
    if (f === "429" || f === "503") {
      res.writeHead(Number(f), { "content-type": "application/json", "retry-after": retryAfter });
      return res.end(JSON.stringify({ errors: [{ message: "try again", extensions: { code: f === "429" ? "RATE_LIMITED" : "UNAVAILABLE" } }] }));
    }
    const answer = await fetch(target, { method: "POST", headers: { "content-type": "application/json", authorization: req.headers.authorization! }, body });
    const text = await answer.text();
    if (f === "stored, answered 503") {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "0" });
      return res.end(JSON.stringify({ errors: [{ message: "lost", extensions: { code: "UNAVAILABLE" } }] }));
    }
    res.writeHead(answer.status, { "content-type": "application/json", ...(answer.headers.get("retry-after") ? { "retry-after": answer.headers.get("retry-after")! } : {}) });
    res.end(text);
  });
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    seen,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}

const view = (i: number): EventInput => ({ eventType: "VIEW_ITEM", userId: `c-${i % 50}`, items: [{ itemId: `sku-${i % 7}` }] });

describe.each(dbTargets())("the node client on $name", target => {
  let h: Harness;
  let shop: CreatedAppspace;

  beforeAll(async () => {
    h = await startHarness(target);
    shop = await h.appspace();
  });
  afterAll(() => h.close());

  /** A client of the shop through `url`, with its callbacks recorded. */
  function clientOf(url: string, options: Partial<ConstructorParameters<typeof AnalyticsClient>[0]> = {}) {
    const rejected: Rejection[] = [];
    const dropped: { event: EventInput; reason: DropReason }[] = [];
    const client = new AnalyticsClient({
      endpoint: url, key: shop.publishableKey, flushAt: 100, flushInterval: 60_000, retryBaseMs: 5, retryMaxMs: 50,
      onRejected: r => rejected.push(r), onDropped: (event, reason) => dropped.push({ event, reason }), ...options,
    });
    return { client, rejected, dropped };
  }

  it("delivers 10,000 events exactly once through 429s, 503s, dropped connections and lost answers, and close() sends the rest", async () => {
    const fates: Fate[] = ["passed", "503", "passed", "429", "stored, answered 503", "passed", "connection dropped", "503"];
    const proxy = await flakyProxy(h.url, n => fates[n % fates.length]);
    const { client, rejected, dropped } = clientOf(proxy.url);
    try {
      // 10,000 with no eventId of their own, plus 50 that have one: theirs is kept.
      for (let i = 0; i < 10_000; i++) client.track(view(i));
      for (let i = 0; i < 50; i++) client.track({ ...view(i), eventId: `own-${i}` });
      await client.close();
    } finally {
      await proxy.close();
    }
    expect({ rejected, dropped }).toEqual({ rejected: [], dropped: [] });
    expect(await h.count("events", "appspace_id = ?", [shop.appspaceId])).toBe(10_050);
    const [distinct] = await h.db.query("SELECT COUNT(DISTINCT event_id) AS n FROM events WHERE appspace_id = ?", [shop.appspaceId]);
    expect(Number(distinct.n)).toBe(10_050);
    expect(await h.count("events", "appspace_id = ? AND event_id LIKE 'own-%'", [shop.appspaceId])).toBe(50);
    // Every kind of trouble happened, batches were sent again, and a batch the server stored went again (a duplicate).
    const fateCounts = new Map<Fate, number>();
    for (const s of proxy.seen) fateCounts.set(s.fate, (fateCounts.get(s.fate) ?? 0) + 1);
    expect(Math.min(...fates.map(f => fateCounts.get(f) ?? 0))).toBeGreaterThan(0);
    const stats = await h.gql(`{ ingestionStats { accepted stored duplicates } }`, {}, shop.secretKey);
    expect(stats.body.data!.ingestionStats.stored).toBe(10_050);
    expect(stats.body.data!.ingestionStats.duplicates).toBeGreaterThanOrEqual(fateCounts.get("stored, answered 503")! * 100 - 100);
  }, 120_000);

  it("sends what waits in the queue every flushInterval, without a flush or close", async () => {
    const proxy = await flakyProxy(h.url, () => "passed");
    const { client } = clientOf(proxy.url, { flushInterval: 200 });
    try {
      client.track({ ...view(1), eventId: "interval-1" });
      const started = Date.now();
      while (proxy.seen.length === 0 && Date.now() - started < 3000) await new Promise(r => setTimeout(r, 20));
      expect(proxy.seen).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(JSON.parse(proxy.seen[0].body).variables.events.map((e: EventInput) => e.eventId)).toEqual(["interval-1"]);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("waits at least the Retry-After the server asks for before sending again", async () => {
    // Retry-After: 1 on the refusal; backoff alone would retry within 5 ms.
    const proxy = await flakyProxy(h.url, n => (n === 0 ? "503" : "passed"), "1");
    const { client } = clientOf(proxy.url);
    try {
      client.track(view(1));
      await client.close();
    } finally {
      await proxy.close();
    }
    expect(proxy.seen.map(s => s.fate)).toEqual(["503", "passed"]);
    expect(proxy.seen[1].at - proxy.seen[0].at).toBeGreaterThanOrEqual(1000);
  });

  it("reports a refused event through onRejected and never sends it again", async () => {
    const proxy = await flakyProxy(h.url, () => "passed");
    const { client, rejected, dropped } = clientOf(proxy.url);
    try {
      // One event the server refuses by itself (a purchase without its order id), among good ones.
      client.track(view(1));
      client.track({ eventType: "PURCHASE", userId: "c-1", revenue: 10 });
      client.track(view(2));
      await client.flush();
      // A batch the server refuses as a whole: a value the schema does not allow (HTTP 400).
      client.track({ ...view(3), eventType: "NOT_A_TYPE" as EventInput["eventType"] });
      await client.close();
    } finally {
      await proxy.close();
    }
    expect(proxy.seen).toHaveLength(2);
    expect(dropped).toEqual([]);
    expect(rejected.map(r => [r.event.eventType, r.code])).toEqual([["PURCHASE", "MISSING_FIELD"], ["NOT_A_TYPE", "BAD_USER_INPUT"]]);
    expect(rejected[0].message).toMatch(/transactionId/);
    expect(rejected[1].message).toMatch(/eventType|NOT_A_TYPE/);
  });

  it("drops the oldest events past maxQueueSize, and gives up a batch after maxRetries", async () => {
    const proxy = await flakyProxy(h.url, () => "503");
    const { client, dropped } = clientOf(proxy.url, { maxQueueSize: 3, maxRetries: 2 });
    try {
      for (let i = 0; i < 5; i++) client.track({ ...view(i), eventId: `q-${i}` });
      await client.close();
    } finally {
      await proxy.close();
    }
    expect(dropped.map(d => [d.event.eventId, d.reason])).toEqual([
      ["q-0", "queue full"], ["q-1", "queue full"], ["q-2", "retries exhausted"], ["q-3", "retries exhausted"], ["q-4", "retries exhausted"],
    ]);
    // The first attempt and two retries.
    expect(proxy.seen).toHaveLength(3);
    client.track(view(9));
    expect(dropped.at(-1)).toMatchObject({ reason: "closed" });
  });
});
