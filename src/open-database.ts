import "reflect-metadata";
import { DataSource } from "typeorm";
import { Config, loadConfig } from "./config";
import { ensureRates } from "./ingest/rates/rates.service";
import { createDataSource } from "./data-source";

/** The configured database, migrated, with exchange rates present: what the server and every command start from. */
export async function openDatabase(config: Config = loadConfig()): Promise<DataSource> {
  const db = createDataSource(config);
  await db.initialize();
  await db.runMigrations({ transaction: "each" });
  await ensureRates(db);
  return db;
}
