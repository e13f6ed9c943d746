import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import type { DataSource, Logger } from "typeorm";
import { createDataSource } from "../../src/data-source";

export interface DbTarget {
  name: "sqlite" | "mariadb";
  /** Makes a fresh, empty database and returns its DATABASE_URL (null: SQLite at sqlitePath). */
  create(): Promise<{ databaseUrl: string | null; sqlitePath: string; drop(): Promise<void> }>;
}

const sqlite: DbTarget = {
  name: "sqlite",
  async create() {
    return { databaseUrl: null, sqlitePath: ":memory:", drop: async () => undefined };
  },
};

function mariadb(url: string): DbTarget {
  return {
    name: "mariadb",
    async create() {
      const name = `t_${randomBytes(6).toString("hex")}`;
      const admin = await mysql.createConnection(url);
      await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await admin.end();
      const u = new URL(url);
      u.pathname = `/${name}`;
      return {
        databaseUrl: u.toString(),
        sqlitePath: "",
        async drop() {
          const c = await mysql.createConnection(url);
          await c.query(`DROP DATABASE IF EXISTS ${name}`);
          await c.end();
        },
      };
    },
  };
}

/** SQLite always; MariaDB/MySQL too when MYSQL_TEST_URL is set. Test files run their suite once per target. */
export function dbTargets(): DbTarget[] {
  const url = process.env.MYSQL_TEST_URL;
  return url ? [sqlite, mariadb(url)] : [sqlite];
}

/** Where a suite's reports read the days of its fixture: raw events (the days are stale), or the rollups. */
export type Reads = "raw events" | "rollups";

/** Each database target twice: a suite with pinned numbers must answer them from raw events and from rollups alike. */
export function dbTargetsAndReads(): (DbTarget & { reads: Reads })[] {
  return dbTargets().flatMap(target => (["raw events", "rollups"] as const).map(reads => ({ ...target, reads })));
}

/** A fresh database of the target, migrated, and how to drop it (after destroying the DataSource). */
export async function migratedDatabase(target: DbTarget, logger?: Logger): Promise<{ db: DataSource; drop(): Promise<void> }> {
  const created = await target.create();
  const db = createDataSource({ databaseUrl: created.databaseUrl, sqlitePath: created.sqlitePath, logger });
  await db.initialize();
  await db.runMigrations({ transaction: "each" });
  return { db, drop: created.drop };
}
