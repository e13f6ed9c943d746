import { raw, Sql, sql } from "./query";
import { Db, isMysql } from "./sql";

/*
 * What MySQL/MariaDB and SQLite spell differently, in one place: features ask the dialect of their connection
 * (dialectOf) instead of branching on the database. Values are never spliced in: these build trusted text around
 * column names and bound placeholders.
 */

/** The stored and the incoming value of a column, as SQL expressions, in an ON CONFLICT / ON DUPLICATE KEY clause. */
export type ConflictValues = (column: string) => { stored: string; incoming: string };

/** How columns are set on conflict: from their stored value and the incoming one (`values` gives other columns'). */
export type OnConflictSet = Record<string, (stored: string, incoming: string, values: ConflictValues) => string>;

export interface Dialect {
  readonly mysql: boolean;
  /** After a SELECT: a locking read that waits for writers in flight (MySQL); SQLite writes one at a time. */
  readonly shareLock: string;
  /** After a SELECT: lock the rows for update, skipping rows others hold (MySQL's SKIP LOCKED; SQLite: nothing). */
  readonly skipLocked: string;
  /** `events e` read through a named index, which index statistics undersell. */
  throughIndex(table: string, alias: string, index: string): Sql;
  /** The UTC calendar day (YYYY-MM-DD) of a datetime column, as text. */
  day(column: string): Sql;
  /** The YYYY-MM of a datetime column. */
  month(column: string): Sql;
  /** Seconds from one datetime column to another (fractional). */
  secondsBetween(from: string, to: string): Sql;
  /** A row's time and id as one text whose greatest is the latest row (fixed width), and the id back from it. */
  timeAndId(time: string, id: string): Sql;
  idOfTimeAndId(packed: string): Sql;
  /** A datetime column `hours` hours earlier. */
  hoursBefore(column: string, hours: number): Sql;
  /** The database's clock now, UTC, as DATETIME(3) text compares (processes' clocks may differ; the database's is one). */
  readonly now: string;
  /** The database's clock `ms` milliseconds from now. */
  msFromNow(ms: number): Sql;
  /** The greatest of several values of a row (SQLite's multi-argument MAX). */
  readonly greatest: string;
  /** `a` IS NOT DISTINCT FROM `b`, as an SQL condition. */
  same(a: string, b: string): string;
  /** The tail of a multi-row INSERT that updates the rows whose `key` is already stored. */
  onConflict(table: string, key: readonly string[], set: OnConflictSet): string;
  /** Text as the database compares it: MariaDB's utf8mb4_bin ignores trailing spaces, SQLite's BINARY does not. */
  compared(text: string): string;
  /** The code of the last character of a text as the database compares it (trailing spaces aside on MySQL). */
  lastCharCode(text: Sql): Sql;
}

const mysqlDialect: Dialect = {
  mysql: true,
  shareLock: " LOCK IN SHARE MODE",
  skipLocked: " FOR UPDATE SKIP LOCKED",
  throughIndex: (table, alias, index) => raw(`${table} ${alias} FORCE INDEX (${index})`),
  day: column => raw(`DATE_FORMAT(${column}, '%Y-%m-%d')`),
  month: column => raw(`DATE_FORMAT(${column}, '%Y-%m')`),
  secondsBetween: (from, to) => raw(`TIMESTAMPDIFF(MICROSECOND, ${from}, ${to}) / 1000000`),
  timeAndId: (time, id) => raw(`CONCAT(DATE_FORMAT(${time}, '%Y%m%d%H%i%s%f'), LPAD(${id}, 20, '0'))`),
  idOfTimeAndId: packed => raw(`CAST(SUBSTRING(${packed}, 21) AS UNSIGNED)`),
  hoursBefore: (column, hours) => raw(`${column} - INTERVAL ${Math.trunc(hours)} HOUR`),
  now: "UTC_TIMESTAMP(3)",
  msFromNow: ms => raw(`UTC_TIMESTAMP(3) + INTERVAL ${Math.trunc(ms) * 1000} MICROSECOND`),
  greatest: "GREATEST",
  same: (a, b) => `${a} <=> ${b}`,
  // Assignments apply left to right, each seeing the ones before: a column others read goes last.
  onConflict: (_table, _key, set) => {
    const values: ConflictValues = c => ({ stored: c, incoming: `VALUES(${c})` });
    const assignments = Object.entries(set).map(([c, value]) => `${c} = ${value(c, `VALUES(${c})`, values)}`);
    return `ON DUPLICATE KEY UPDATE ${assignments.join(", ")}`;
  },
  compared: text => text.replace(/ +$/, ""),
  lastCharCode: text => sql`ORD(RIGHT(TRIM(TRAILING ' ' FROM ${text}), 1))`,
};

const sqliteDialect: Dialect = {
  mysql: false,
  shareLock: "",
  skipLocked: "",
  throughIndex: (table, alias, index) => raw(`${table} ${alias} INDEXED BY ${index}`),
  day: column => raw(`substr(${column}, 1, 10)`),
  month: column => raw(`substr(${column}, 1, 7)`),
  secondsBetween: (from, to) => raw(`(julianday(${to}) - julianday(${from})) * 86400`),
  timeAndId: (time, id) => raw(`${time} || printf('%020d', ${id})`),
  idOfTimeAndId: packed => raw(`CAST(substr(${packed}, 24) AS INTEGER)`),
  hoursBefore: (column, hours) => raw(`strftime('%Y-%m-%d %H:%M:%f', ${column}, '-${Math.trunc(hours)} hours')`),
  now: "strftime('%Y-%m-%d %H:%M:%f', 'now')",
  msFromNow: ms => sql`strftime('%Y-%m-%d %H:%M:%f', 'now', ${`+${Math.trunc(ms) / 1000} seconds`})`,
  greatest: "MAX",
  same: (a, b) => `${a} IS ${b}`,
  onConflict: (table, key, set) => {
    const values: ConflictValues = c => ({ stored: `${table}.${c}`, incoming: `excluded.${c}` });
    const assignments = Object.entries(set).map(([c, value]) => `${c} = ${value(`${table}.${c}`, `excluded.${c}`, values)}`);
    return `ON CONFLICT (${key.join(", ")}) DO UPDATE SET ${assignments.join(", ")}`;
  },
  compared: text => text,
  lastCharCode: text => sql`unicode(substr(${text}, -1))`,
};

export const dialectOf = (db: Db): Dialect => (isMysql(db) ? mysqlDialect : sqliteDialect);

/** The UTC calendar day (YYYY-MM-DD) of a datetime column, as text on both databases. */
export const dayOf = (db: Db, column: string): Sql => dialectOf(db).day(column);

/** Seconds from one datetime column to another (fractional), on both databases. */
export const secondsBetween = (db: Db, from: string, to: string): Sql => dialectOf(db).secondsBetween(from, to);
