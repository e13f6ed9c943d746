import { Request, Response, Router } from "express";
import { DataSource } from "typeorm";
import { TimedOut, within } from "../within";

/*
 * Health checks for a process manager or an orchestrator:
 * - GET /health/live: the process answers (restart it when it does not);
 * - GET /health/ready: it can serve (send it traffic when it can): the database answers within a second, every
 *   migration this code knows is applied, and it is not shutting down. 200 or 503, with the check that failed;
 * - GET /health: the same as live.
 */

/** How long the database has to answer the readiness check. */
export const READY_TIMEOUT_MS = 1000;

type Check = "ok" | "unreachable" | "timeout" | "pending" | "unknown" | "shutting down";

export interface Readiness {
  status: "ok" | "unavailable";
  /** The checks that did not pass. */
  failed?: string[];
  checks: { database: Check; migrations: Check; shutdown: Check };
}


/**
 * The database answers, and has every migration this code knows applied: one read of the migrations table, so that a
 * probe takes one pooled connection for one statement.
 */
async function databaseChecks(db: DataSource): Promise<Pick<Readiness["checks"], "database" | "migrations">> {
  const table = db.options.migrationsTableName ?? "migrations";
  try {
    const rows: { name: string }[] = await within(db.query(`SELECT name FROM ${table}`), READY_TIMEOUT_MS);
    const applied = new Set(rows.map(r => r.name));
    const pending = db.migrations.some(m => !applied.has(m.name ?? m.constructor.name));
    return { database: "ok", migrations: pending ? "pending" : "ok" };
  } catch (err) {
    return { database: err instanceof TimedOut ? "timeout" : "unreachable", migrations: "unknown" };
  }
}

export async function readiness(db: DataSource, shuttingDown: () => boolean): Promise<Readiness> {
  const checks: Readiness["checks"] = shuttingDown()
    ? { database: "unknown", migrations: "unknown", shutdown: "shutting down" }
    : { ...(await databaseChecks(db)), shutdown: "ok" };
  // "unknown": not checked, because a check before it failed (migrations without a database) or the server is stopping.
  const failed = Object.entries(checks).filter(([, v]) => v !== "ok" && v !== "unknown").map(([name]) => name);
  return failed.length ? { status: "unavailable", failed, checks } : { status: "ok", checks };
}

export function healthRoutes(db: DataSource, shuttingDown: () => boolean): Router {
  const router = Router();
  const live = (_req: Request, res: Response) => void res.json({ status: "ok" });
  router.get("/health", live);
  router.get("/health/live", live);
  router.get("/health/ready", async (_req, res) => {
    const ready = await readiness(db, shuttingDown);
    res.status(ready.status === "ok" ? 200 : 503).json(ready);
  });
  return router;
}
