import { DataSource, EntityManager } from "typeorm";
import { Appspace } from "../appspaces/appspace.entity";
import { KeyKind } from "../appspaces/api-key.entity";
import { settingsOf } from "../appspaces/settings";
import { IdAllocator } from "../db/id-allocator";
import { Db, failedOnItsOwn, isMysql, multiRowInsert, toNumber, withTransaction, Writes } from "../db/sql";
import { AppError } from "../errors";
import { lockIdentities } from "../identity/persons";
import { EventInput } from "./event.input";
import { writeEvents } from "./event-writer";
import { FraudChecks } from "./fraud";
import { GroupCommit } from "./group-commit";
import { RatesCache } from "./rates/rates.service";
import { isPublicAddress } from "./client-context";
import { NormalizedEvent, normalizeEvent, Problem } from "./validate";
import { dialectOf } from "../db/dialect";
import { Limits } from "../limits/limits";
import { ingestAccepted, ingestEvents, ingestTransactionDuration, ingestTransactionEvents, ingestTransactionRequests, refusals } from "../metrics";

export interface IngestDeps {
  db: DataSource;
  eventIds: IdAllocator;
  rates: RatesCache;
  fraud: FraudChecks;
  writes: EventWrites;
  limits: Limits;
  now: () => Date;
}

export interface IngestResult {
  /** Valid events: stored, recognised as duplicates, or blocked by a fraud rule (not revealed). */
  accepted: number;
  problems: { index: number; problem: Problem }[];
}

export class QuotaExceededError extends AppError {
  constructor(quota: number) {
    super(`Monthly event quota of ${quota} events reached; it renews on the 1st (UTC)`, "QUOTA_EXCEEDED", 429);
  }
}

/** Outcome counts, by outcome and by rule or error code ("" for the outcome's total). */
class Tally {
  readonly counts = new Map<string, number>();
  add(outcome: string, codes: readonly string[] = [], n = 1) {
    for (const code of ["", ...codes]) this.counts.set(`${outcome}|${code}`, (this.counts.get(`${outcome}|${code}`) ?? 0) + n);
  }
  /** An event stored with these flags (null: clean). */
  addStored(flags: string | null, n = 1) {
    if (flags) this.add("flagged", flags.split(","), n);
    else this.add("stored", [], n);
  }
  addAll(other: Tally) {
    for (const [key, n] of other.counts) this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
}

/** One request's share of a write: the events it stores (with their row ids) and what became of the others. */
interface WriteJob {
  events: NormalizedEvent[];
  ids: number[];
  now: Date;
  tally: Tally;
}

export type EventWrites = GroupCommit<number, WriteJob>;

/** Most rows (events, items, properties and aliases) one transaction of coalesced requests writes; a larger request goes alone. */
const GROUP_ROWS = 2000;

/**
 * Transactions of one appspace in flight at once on MySQL (the second only for half a transaction's rows waiting):
 * with two, the database stores one while the next is prepared (at concurrency 8, 100-event batches went from about
 * 3,700 to 4,500 events/s; four did no better). SQLite writes one transaction at a time whatever the number.
 */
const MYSQL_FLUSHES = 2;

/** Whether an event links identifiers (its anonymousId or aliases to its userId), which changes identity_persons. */
const links = (e: NormalizedEvent) => e.userId !== null && (e.anonymousId !== null || e.aliases.length > 0);

/**
 * The event writes of a server: the requests of an appspace that arrive while its
 * previous write runs are stored together, in one transaction (GroupCommit), whose
 * last statements (marks, items, properties, catalog, stats) go in one round trip.
 * Deadlocks are avoided by design, not retried away (the retries are for other servers):
 * - on MySQL at READ COMMITTED, so that reads take no gap locks, and only locking reads wait for writers;
 * - a transaction that links identities takes the appspace's identity lock first (lockIdentities), before
 *   its events: what it reads of events for a merge waits for their writers, who never wait for it;
 * - rows that concurrent transactions share are written in one order (sorted keys: events by eventId,
 *   claims, links, persons, catalog, stats) and last, from the catalog on, in one round trip.
 */
export function eventWrites(db: DataSource): EventWrites {
  const weight = (job: WriteJob) => job.events.reduce((rows, e) => rows + 1 + e.items.length + e.properties.length + e.aliases.length, 1);
  const flush = async (appspaceId: number, jobs: WriteJob[]) => {
    const started = performance.now();
    const received = await withTransaction(db, em => writeJobs(em, appspaceId, jobs), "READ COMMITTED");
    observeWrite(appspaceId, jobs, received, (performance.now() - started) / 1000);
  };
  return new GroupCommit<number, WriteJob>(flush, weight, GROUP_ROWS, failedOnItsOwn, isMysql(db) ? MYSQL_FLUSHES : 1);
}

/**
 * One transaction of a group: the events of its jobs, then each day's ingestion stats. Returns what became of the
 * events received (as the metrics count them: restated refunds aside).
 */
async function writeJobs(em: EntityManager, appspaceId: number, jobs: WriteJob[]): Promise<Tally> {
  const events = jobs.flatMap(j => j.events);
  if (events.some(links)) await lockIdentities(em, appspaceId);
  const writes = new Writes();
  const outcome = events.length ? await writeEvents(em, appspaceId, events, jobs.flatMap(j => j.ids), writes) : { stored: [], restated: [], conflicts: [] };
  const kept = new Set(outcome.stored);
  const conflicts = new Set(outcome.conflicts);
  // Per day of receipt; counted afresh on each attempt (a deadlock retries the whole transaction).
  const days = new Map<string, Tally>();
  const tallyOf = (day: string) => days.get(day) ?? days.set(day, new Tally()).get(day)!;
  const received = new Tally();
  for (const job of jobs) {
    const tally = tallyOf(job.now.toISOString().slice(0, 10));
    tally.addAll(job.tally);
    received.addAll(job.tally);
    for (const e of job.events) {
      for (const t of [tally, received]) {
        if (kept.has(e)) t.addStored(e.flags);
        else t.add("duplicate");
      }
      // Stored all the same: counted beside its outcome, not as one.
      if (conflicts.has(e)) tally.add(IDENTITY_CONFLICT);
    }
  }
  // Refunds that took the flags of a purchase sent after them move to its outcome on their own day of receipt.
  for (const r of outcome.restated) {
    tallyOf(r.receivedDay).addStored(r.was, -1);
    tallyOf(r.receivedDay).addStored(r.now);
  }
  // Days in order, so that two transactions lock the stats rows in one order.
  for (const [day, tally] of [...days].sort(([a], [b]) => (a < b ? -1 : 1))) if (tally.counts.size) writes.add(statsUpsert(em, appspaceId, day, tally));
  await writes.send(em);
  return received;
}

/**
 * The metrics of a committed write: the group's size and time, and what became of its events
 * (ingest_events_total by outcome; the code is the error code of a rejected event, the rule of a blocked one).
 */
function observeWrite(appspaceId: number, jobs: WriteJob[], received: Tally, seconds: number): void {
  ingestTransactionRequests.observe(jobs.length);
  ingestTransactionEvents.observe(jobs.reduce((n, j) => n + j.events.length, 0));
  ingestTransactionDuration.observe(seconds);
  const appspace = String(appspaceId);
  for (const [key, n] of received.counts) {
    const [outcome, code] = key.split("|");
    const coded = outcome === "rejected" || outcome === "blocked";
    if (n > 0 && (coded ? code !== "" : code === "")) ingestEvents.inc({ appspace, outcome, code }, n);
  }
  const accepted = ["stored", "flagged", "duplicate", "blocked"].reduce((sum, o) => sum + (received.counts.get(`${o}|`) ?? 0), 0);
  if (accepted > 0) ingestAccepted.inc({ appspace }, accepted);
}

/** Who sent a request: the kind of its key, and the client's address (Context.clientAddress). */
export interface Sender {
  keyKind: KeyKind;
  address: string | null;
}

/**
 * Validates every event, checks the monthly quota and the fraud rules, then stores
 * the events that pass in one transaction, with the day's ingestion stats (requests
 * of the appspace that come while its previous write runs share one: eventWrites).
 */
export async function ingest(deps: IngestDeps, appspace: Appspace, sender: Sender, inputs: EventInput[]): Promise<IngestResult> {
  const now = deps.now();
  await deps.rates.refresh(now.getTime());
  const valid: NormalizedEvent[] = [];
  const problems: IngestResult["problems"] = [];
  const tally = new Tally();
  inputs.forEach((input, index) => {
    try {
      const e = normalizeEvent(input, appspace, deps.rates, now);
      e.linksUserIds = sender.keyKind === "secret";
      // The velocity rule counts a browser's purchases by its address when the event does not say it: a publishable
      // key is a browser's, whose public address is the buyer's (as the connection's, or as a trusted proxy says it:
      // TRUST_PROXY). A private address is a load balancer's, and a secret key is a server's, whose one address sends
      // every customer's orders: neither is counted.
      if (e.ip === null && sender.keyKind === "publishable" && sender.address !== null && isPublicAddress(sender.address)) e.ip = sender.address;
      valid.push(e);
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      problems.push({ index, problem: err });
      tally.add("rejected", [err.code]);
    }
  });

  // The monthly quota: the valid events are reserved against it first (shared by every process with REDIS_URL), and
  // given back if they are not written.
  const quota = valid.length > 0 ? settingsOf(appspace).monthlyEventQuota : null;
  const month = now.toISOString().slice(0, 7);
  if (quota !== null && !(await deps.limits.reserveQuota(appspace.id, month, valid.length, quota, () => eventsThisMonth(deps.db, appspace.id, now)))) {
    refusals.inc({ reason: "quota_exceeded", appspace: String(appspace.id) });
    throw new QuotaExceededError(quota);
  }
  try {
    await checkAndWrite(deps, appspace, valid, tally, now);
  } catch (err) {
    if (quota !== null) await deps.limits.releaseQuota(appspace.id, month, valid.length);
    throw err;
  }
  return { accepted: valid.length, problems };
}

/** The fraud rules, then the write of what they let through (with the request's tally). */
async function checkAndWrite(deps: IngestDeps, appspace: Appspace, valid: NormalizedEvent[], tally: Tally, now: Date): Promise<void> {
  const toStore: NormalizedEvent[] = [];
  for (const e of valid) {
    const verdict = await deps.fraud.check(appspace, e);
    if (verdict.blockedBy) {
      tally.add("blocked", [verdict.blockedBy]);
      continue;
    }
    if (verdict.flagged.length) e.flags = verdict.flagged.join(",");
    toStore.push(e);
  }

  const ids = toStore.length ? await deps.eventIds.take(toStore.length) : [];
  await deps.writes.run(appspace.id, { events: toStore, ids, now, tally });
}

/** An event stored (or a duplicate) whose identity link a publishable key may not make (admitLinks): a stat beside the outcomes. */
export const IDENTITY_CONFLICT = "identity_conflict";

/** Valid events taken in this calendar month (UTC), whatever became of them. */
async function eventsThisMonth(db: DataSource, appspaceId: number, now: Date): Promise<number> {
  const month = now.toISOString().slice(0, 7);
  const [row] = await db.query(
    "SELECT COALESCE(SUM(n), 0) AS n FROM ingestion_stats WHERE appspace_id = ? AND day >= ? AND day <= ? AND code = '' AND outcome IN ('stored', 'flagged', 'duplicate', 'blocked')",
    [appspaceId, `${month}-01`, `${month}-31`],
  );
  return toNumber(row.n);
}

/** Adds a day's outcome counts to ingestion_stats. */
function statsUpsert(db: Db | EntityManager, appspaceId: number, day: string, tally: Tally): [string, unknown[]] {
  const rows = [...tally.counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, n]) => [appspaceId, day, ...key.split("|"), n]);
  const columns = ["appspace_id", "day", "outcome", "code", "n"];
  const add = dialectOf(db).onConflict("ingestion_stats", ["appspace_id", "day", "outcome", "code"], { n: (stored, incoming) => `${stored} + ${incoming}` });
  return multiRowInsert("ingestion_stats", columns, rows, add);
}
