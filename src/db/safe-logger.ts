import { Logger } from "typeorm";
import { log } from "../log";
import { statementShape } from "./failures";

/**
 * TypeORM's logger for the app: statements as their shape only (no bound values, which hold ids of people and
 * orders), and failed ones not at all: whoever meets the error logs it once, with its code and shape (src/log.ts),
 * and a lost database is logged once per outage (src/db/health.ts), not once per statement.
 * With LOG_SQL=1 every statement's shape is printed, for development.
 */
export class SafeLogger implements Logger {
  constructor(private readonly logSql: boolean) {}

  logQuery(query: string): void {
    if (this.logSql) log.info({ scope: "sql", statement: statementShape(query) }, "statement");
  }
  logQueryError(): void {}
  logQuerySlow(time: number, query: string): void {
    log.warn({ scope: "sql", durationMs: time, statement: statementShape(query) }, "slow statement");
  }
  logSchemaBuild(message: string): void {
    if (this.logSql) log.info({ scope: "schema" }, message);
  }
  logMigration(message: string): void {
    // TypeORM appends a failed migration's error message, which may quote values: the failure itself is logged as
    // its code and statement shape by whoever meets it (start-up).
    log.info({ scope: "migration" }, message.replace(/, error: [\s\S]*$/, ""));
  }
  log(level: "log" | "info" | "warn", message: unknown): void {
    if (level === "warn") log.warn({ scope: "typeorm" }, String(message));
  }
}
