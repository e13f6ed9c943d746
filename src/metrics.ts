import client, { Counter, Gauge, Histogram, Registry } from "prom-client";

/*
 * The Prometheus metrics (prom-client) an operator scrapes at /metrics. Counters and histograms of what this process
 * did live in the default registry; gauges read off a server's database at scrape time are the server's own
 * (serverMetrics in src/ops/). Label values come from closed sets (operation names of the schema, outcomes, error
 * codes, appspace ids): never a string a client sent.
 */

/** Node's own metrics (CPU, memory, event loop lag, GC, handles), once per process. */
let defaults = false;
export function collectDefaultMetrics(): void {
  if (defaults) return;
  defaults = true;
  client.collectDefaultMetrics();
}

export const httpDuration = new Histogram({
  name: "http_request_duration_seconds",
  help: "GraphQL requests by root field (operation), operation type and HTTP status, in seconds.",
  labelNames: ["operation", "type", "status"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

export const ingestEvents = new Counter({
  name: "ingest_events_total",
  help: "Events received, by what became of them when written: stored, flagged, duplicate, blocked (code: the rule) or rejected (code: the error code).",
  labelNames: ["appspace", "outcome", "code"] as const,
});

export const ingestAccepted = new Counter({
  name: "ingest_events_accepted_total",
  help: "Events answered ok (stored, flagged, duplicate or blocked).",
  labelNames: ["appspace"] as const,
});

export const ingestTransactionRequests = new Histogram({
  name: "ingest_transaction_requests",
  help: "Requests written together in one ingest transaction (group commit).",
  buckets: [1, 2, 4, 8, 16, 32, 64, 128],
});

export const ingestTransactionEvents = new Histogram({
  name: "ingest_transaction_events",
  help: "Events written in one ingest transaction (group commit).",
  buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
});

export const ingestTransactionDuration = new Histogram({
  name: "ingest_transaction_duration_seconds",
  help: "Time of one ingest transaction (group commit), retries included, in seconds.",
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

export const transactionRetries = new Counter({
  name: "db_transaction_retries_total",
  help: "Transactions run again after a lock conflict, by its code (ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT).",
  labelNames: ["code"] as const,
});

export const deadlocks = new Counter({
  name: "db_deadlocks_total",
  help: "Transactions the database rolled back as a deadlock victim (retried or not).",
});

export const refusals = new Counter({
  name: "requests_refused_total",
  help: "Requests refused by a limit: rate_limited (the key's requestLimit) or quota_exceeded (the monthly event quota).",
  labelNames: ["reason", "appspace"] as const,
});

export const rollupRefreshDuration = new Histogram({
  name: "rollup_refresh_duration_seconds",
  help: "Time to recompute the rollups of one stale day, in seconds.",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

export const ratesFetches = new Counter({
  name: "rates_fetches_total",
  help: "Fetches of RATES_URL by outcome (ok, failed).",
  labelNames: ["outcome"] as const,
});

export const ratesDate = new Gauge({
  aggregator: "max",
  name: "rates_date_seconds",
  help: "The date of the latest exchange rates fetched from RATES_URL (unix seconds).",
});

export const redisUp = new Gauge({
  aggregator: "min",
  name: "redis_up",
  help: "1 while the Redis of the shared limits (REDIS_URL) answers, 0 while it does not; absent without REDIS_URL.",
});

export const replicaLag = new Gauge({
  aggregator: "max",
  name: "db_replica_lag_seconds",
  help: "How far each read replica (DATABASE_READ_URLS, numbered from 1) is behind the primary; -1 when not replicating or unreachable.",
  labelNames: ["replica"],
});

export const replicaUsable = new Gauge({
  aggregator: "min",
  name: "db_replica_serving",
  help: "1 while a read replica serves reads, 0 while it is skipped (lagging, not replicating, unreachable).",
  labelNames: ["replica"],
});

export const limitsFailOpen = new Counter({
  name: "limits_fail_open_total",
  help: "Limits counted in this process's memory because Redis did not answer (within REDIS_FAIL_OPEN_SECONDS).",
});

export const limitsUnavailable = new Counter({
  name: "limits_unavailable_total",
  help: "Requests refused 503 because Redis was gone for longer than REDIS_FAIL_OPEN_SECONDS.",
});

/** The default registry: this process's counters and histograms (and Node's metrics once collected). */
export const processRegistry: Registry = client.register;
