import { DataSource } from "typeorm";
import { log, logFailure } from "../log";
import { driverError, isConnectionFailure } from "./failures";

/**
 * Whether a database answers, as its failures tell: the first failure to reach it logs one line and starts a probe
 * (`SELECT 1` every second) that logs one more once it answers again. Requests in between are answered 503 by the
 * errors they meet, and no request is logged for it: an outage is two log lines, not one per request.
 */
export class DatabaseHealth {
  private downSince: number | null = null;
  private probe: NodeJS.Timeout | null = null;

  constructor(private readonly db: DataSource, private readonly probeMs = 1000) {}

  /** Takes note of a connection failure (true); false for any other error, which is the caller's to log. */
  noteFailure(err: unknown): boolean {
    if (!isConnectionFailure(err)) return false;
    if (this.downSince === null) {
      this.downSince = Date.now();
      log.error({ scope: "database", code: driverError(err).code ?? "connection closed" }, "database unreachable: requests answer 503 UNAVAILABLE until it is back");
      this.schedule();
    }
    return true;
  }

  /** Stops probing (at shutdown). */
  stop(): void {
    if (this.probe) clearTimeout(this.probe);
    this.probe = null;
  }

  private schedule(): void {
    this.probe = setTimeout(() => void this.check(), this.probeMs);
    this.probe.unref();
  }

  private async check(): Promise<void> {
    try {
      if (!this.db.isInitialized) return;
      await this.db.query("SELECT 1");
      log.warn({ scope: "database", downSeconds: Math.round((Date.now() - this.downSince!) / 100) / 10 }, "database reachable again");
      this.downSince = null;
      this.probe = null;
    } catch {
      this.schedule();
    }
  }
}

const health = new WeakMap<DataSource, DatabaseHealth>();

export function healthOf(db: DataSource): DatabaseHealth {
  let h = health.get(db);
  if (!h) health.set(db, (h = new DatabaseHealth(db)));
  return h;
}

/** A failure of background work or a request: a lost database goes to its health (logged once), anything else is logged. */
export function reportFailure(db: DataSource, scope: string, what: string, err: unknown, fields: Record<string, string | number | undefined> = {}): void {
  if (!healthOf(db).noteFailure(err)) logFailure(scope, what, err, fields);
}
