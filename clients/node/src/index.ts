import { randomUUID } from "node:crypto";
import type { EventInput } from "./schema";

export type { EventInput, EventType, ItemInput, PropertyInput, ContextInput } from "./schema";

/*
 * An ingestion client for a server of this analytics API: `track` queues events, which go in batches of up to 100
 * (`trackEvents`) once `flushAt` are queued or every `flushInterval` ms. Every event gets an `eventId` when it has none,
 * so that a batch sent again (its answer was lost) is stored once: the server ignores an eventId it has. 429, 503 and
 * network failures are retried with exponential backoff and jitter, never sooner than the answer's Retry-After; any
 * other refusal is final and reported through `onRejected`. The queue is bounded: past `maxQueueSize` the oldest event
 * is dropped (`onDropped`). Nothing beyond Node's own fetch.
 */

/** An event the server refused: it will not be sent again. */
export interface Rejection {
  event: EventInput;
  /** The API's code: per event (MISSING_FIELD, INVALID_VALUE, …) or for the whole batch (BAD_USER_INPUT, UNAUTHENTICATED). */
  code: string;
  /** The API's message, naming the field where there is one. */
  message: string;
}

/** Why an event was dropped without an answer: the queue was full, retries ran out, or the client was closed. */
export type DropReason = "queue full" | "retries exhausted" | "closed";

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. https://analytics.example.com/graphql. */
  endpoint: string;
  /** A publishable (pk_…) or secret key of the appspace. */
  key: string;
  /** Events queued that start a send (1 to 100; default 20). */
  flushAt?: number;
  /** Longest an event waits in the queue before it is sent, in ms (default 10,000). */
  flushInterval?: number;
  /** Events kept at most; past it the oldest is dropped (default 10,000). */
  maxQueueSize?: number;
  /** Attempts after the first for a batch answered 429, 503 or not at all (default 10); then its events are dropped. */
  maxRetries?: number;
  /** The first retry's delay bound, doubled at each retry (default 500 ms), and the largest (default 30,000 ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  onRejected?: (rejection: Rejection) => void;
  onDropped?: (event: EventInput, reason: DropReason) => void;
}

const MAX_BATCH = 100;
const TRACK_EVENTS = "mutation TrackEvents($events: [EventInput!]!) { trackEvents(events: $events) { accepted errors { index code message } } }";

/** Answers worth sending the same batch again for: the server stored nothing, or its answer may have been lost. */
const RETRYABLE = new Set([408, 429, 502, 503, 504]);

export class AnalyticsClient {
  private readonly options: Required<Omit<ClientOptions, "onRejected" | "onDropped">> & Pick<ClientOptions, "onRejected" | "onDropped">;
  private readonly queue: EventInput[] = [];
  private sending: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(options: ClientOptions) {
    this.options = {
      flushAt: 20, flushInterval: 10_000, maxQueueSize: 10_000, maxRetries: 10, retryBaseMs: 500, retryMaxMs: 30_000,
      ...options,
    };
    this.options.flushAt = Math.min(MAX_BATCH, Math.max(1, this.options.flushAt));
    this.timer = setInterval(() => void this.flush(), this.options.flushInterval);
    this.timer.unref();
  }

  /** Queues an event (with an eventId of its own when it has none); a full batch starts a send. */
  track(event: EventInput): void {
    if (this.closed) return this.options.onDropped?.(event, "closed");
    this.queue.push(event.eventId ? event : { ...event, eventId: randomUUID() });
    while (this.queue.length > this.options.maxQueueSize) this.options.onDropped?.(this.queue.shift()!, "queue full");
    if (this.queue.length >= this.options.flushAt) void this.flush();
  }

  /** Sends everything queued now, a batch at a time; resolves once it is answered (stored, refused or dropped). */
  flush(): Promise<void> {
    this.sending ??= this.sendAll().finally(() => (this.sending = null));
    return this.sending;
  }

  /** Stops the timer and flushes what is queued; events tracked afterwards are dropped ("closed"). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    while (this.queue.length > 0 || this.sending) await this.flush();
  }

  private async sendAll(): Promise<void> {
    while (this.queue.length > 0) await this.sendBatch(this.queue.splice(0, MAX_BATCH));
  }

  /** Sends one batch until it is answered for good, or its retries run out. */
  private async sendBatch(batch: EventInput[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.post(batch);
      if (outcome.done) return;
      if (attempt >= this.options.maxRetries) {
        for (const event of batch) this.options.onDropped?.(event, "retries exhausted");
        return;
      }
      await sleep(this.backoff(attempt, outcome.retryAfterMs));
    }
  }

  /** Full jitter: a random delay up to the attempt's bound, and never less than what the server asked for. */
  private backoff(attempt: number, retryAfterMs: number): number {
    const bound = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** attempt);
    return Math.max(retryAfterMs, Math.random() * bound);
  }

  /** One request: done (stored, or refused for good and reported), or to be retried after at least retryAfterMs. */
  private async post(batch: EventInput[]): Promise<{ done: boolean; retryAfterMs: number }> {
    let res: Response;
    try {
      res = await fetch(this.options.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.options.key}` },
        body: JSON.stringify({ query: TRACK_EVENTS, variables: { events: batch } }),
      });
    } catch {
      return { done: false, retryAfterMs: 0 };
    }
    const body = (await res.json().catch(() => null)) as Answer | null;
    if (RETRYABLE.has(res.status)) return { done: false, retryAfterMs: retryAfterOf(res) };
    const answer = body?.data?.trackEvents;
    if (res.ok && answer) {
      for (const e of answer.errors) this.reject(batch[e.index], e.code, e.message);
      return { done: true, retryAfterMs: 0 };
    }
    // Refused as a whole (a 400 naming the field, a wrong key): sending it again would be refused again.
    const error = body?.errors?.[0];
    const code = String(error?.extensions?.code ?? `HTTP_${res.status}`);
    for (const event of batch) this.reject(event, code, error?.message ?? `HTTP ${res.status}`);
    return { done: true, retryAfterMs: 0 };
  }

  private reject(event: EventInput | undefined, code: string, message: string): void {
    if (event) this.options.onRejected?.({ event, code, message });
  }
}

interface Answer {
  data?: { trackEvents?: { accepted: number; errors: { index: number; code: string; message: string }[] } } | null;
  errors?: { message: string; extensions?: { code?: unknown } }[];
}

/** Retry-After in seconds (the server's form), as ms; 0 when absent. */
function retryAfterOf(res: Response): number {
  const seconds = Number(res.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
