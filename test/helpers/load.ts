import http from "node:http";

/**
 * The ingest load of a partner's workers: batches of 100 events (3 items and 2 properties each, 4 event types)
 * sent at a given concurrency for a given time, each event with its own eventId so that a retry is safe. A third of
 * the batches are people never seen before (a new userId/anonymousId pair per event), a third join people seen
 * before (an earlier person's anonymousId with another earlier person's userId), a third are returning people.
 * Every id sent starts with `tag`, so a test can look for any of them in a log.
 */
export interface LoadOptions {
  url: string;
  key: string;
  tag: string;
  concurrency: number;
  seconds: number;
  /** Stops the load early when it returns true (checked before each request). */
  stop?: () => boolean;
  /** Sees every answer: its HTTP status (0 for a connection error) and when it came. */
  onAnswer?: (status: number) => void;
}

export interface LoadResult {
  /** eventIds of the batches answered 200 with every event accepted. */
  acknowledged: Set<string>;
  /** Answers by HTTP status; 0 counts requests that got no answer (a reset or refused connection). */
  statuses: Map<number, number>;
  /** Events a 200 answer reported as not accepted. */
  eventErrors: number;
  /** A few of the answers that were not 200, as text. */
  samples: string[];
  /** The Retry-After header of the first 503 answer. */
  retryAfter: string | null;
  batches: number;
  /** Each request: when it was sent and answered (Date.now()), and its status (0: no answer). */
  requests: { sentAt: number; answeredAt: number; status: number }[];
}

const TRACK = "mutation ($events: [EventInput!]!) { trackEvents(events: $events) { accepted errors { index code } } }";
const TYPES = ["VIEW_ITEM", "ADD_TO_CART", "BEGIN_CHECKOUT", "PURCHASE"] as const;

/** Batch n; `freshBefore` fresh batches (numbers 0, 3, 6, ...) were sent before it, whose people it may name. */
export function loadBatch(tag: string, n: number, freshBefore: number): Record<string, unknown>[] {
  const kind = freshBefore === 0 ? 0 : n % 3;
  // A person seen before: event j of fresh batch 3m.
  const earlier = (seed: number) => 3 * (seed % freshBefore) * 100 + ((seed * 37) % 100);
  return Array.from({ length: 100 }, (_, i) => {
    const own = kind === 0 ? n * 100 + i : earlier(n * 131 + i * 17);
    const other = kind === 1 ? earlier(n * 59 + i * 29 + 7) : own;
    const type = TYPES[i % TYPES.length];
    const items = [1, 2, 3].map(k => ({ itemId: `sku-${(n + i + k) % 500}`, price: 5 + k, quantity: 1 }));
    return {
      eventType: type,
      eventId: `${tag}-e-${n}-${i}`,
      userId: `${tag}-u-${other}`,
      anonymousId: `${tag}-a-${own}`,
      items,
      ...(type === "PURCHASE" ? { transactionId: `${tag}-t-${n}-${i}`, revenue: 18 } : {}),
      properties: [{ key: "campaign", value: `c${i % 4}` }, { key: "source", value: "partner" }],
    };
  });
}

/** A POST of `body` over `agent`. */
function post(agent: http.Agent, url: string, key: string, body: string): Promise<{ status: number; retryAfter: string | null; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", authorization: `Bearer ${key}` } }, res => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", d => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, retryAfter: (res.headers["retry-after"] as string | undefined) ?? null, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { acknowledged: new Set(), statuses: new Map(), eventErrors: 0, samples: [], retryAfter: null, batches: 0, requests: [] };
  const until = Date.now() + opts.seconds * 1000;
  let next = 0;
  let freshSent = 0; // fresh batches started
  const answered = (sentAt: number, status: number, sample?: string) => {
    result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
    result.requests.push({ sentAt, answeredAt: Date.now(), status });
    if (sample && result.samples.length < 5) result.samples.push(sample);
    opts.onAnswer?.(status);
  };
  // Each worker has a connection of its own (kept alive, one request at a time): a request is written to the socket
  // when it is sent, never queued in the client behind another, so "sent" means the server can read it.
  const send = async (agent: http.Agent, events: Record<string, unknown>[]) => {
    const sentAt = Date.now();
    let res: { status: number; retryAfter: string | null; text: string };
    try {
      res = await post(agent, opts.url, opts.key, JSON.stringify({ query: TRACK, variables: { events } }));
    } catch (err) {
      answered(sentAt, 0, `no answer: ${(err as Error).message}`);
      return 0;
    }
    if (res.status !== 200) {
      if (res.status === 503) result.retryAfter ??= res.retryAfter;
      answered(sentAt, res.status, `${res.status} ${res.text.slice(0, 300)}`);
      return res.status;
    }
    answered(sentAt, 200);
    const answer = (JSON.parse(res.text) as { data?: { trackEvents: { accepted: number; errors: unknown[] } } }).data?.trackEvents;
    result.eventErrors += answer ? answer.errors.length : events.length;
    if (answer && answer.accepted === events.length) for (const e of events) result.acknowledged.add(e.eventId as string);
    return 200;
  };
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (Date.now() < until && !opts.stop?.()) {
      const n = next++;
      const events = loadBatch(opts.tag, n, freshSent);
      if (n % 3 === 0) freshSent++;
      result.batches++;
      const status = await send(agent, events);
      // A client backs off when told to (503) or when nobody answers.
      if (status !== 200) await new Promise(r => setTimeout(r, status === 503 ? 100 : 50));
    }
    agent.destroy();
  }));
  return result;
}
