import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { DataSource, DataSourceOptions, Logger } from "typeorm";
import { Appspace } from "./appspaces/appspace.entity";
import { ApiKey } from "./appspaces/api-key.entity";
import { Product } from "./catalog/product.entity";
import { IdentityLink } from "./identity/identity-link.entity";
import { EventRecord } from "./events/event.entity";
import { EventItem } from "./events/event-item.entity";
import { EventProperty } from "./events/event-property.entity";
import { Order } from "./events/order.entity";
import { ExchangeRate } from "./ingest/rates/exchange-rate.entity";
import { IdBlock } from "./db/id-block.entity";
import { SafeLogger } from "./db/safe-logger";
import { READ_MODELS } from "./read-models";
import { Init1767225600000 } from "./db/migrations/1767225600000-Init";
import { People1767312000000 } from "./db/migrations/1767312000000-People";
import { TrustAndSafety1767398400000 } from "./db/migrations/1767398400000-TrustAndSafety";
import { Rollups1767484800000 } from "./db/migrations/1767484800000-Rollups";
import { RollupKeys1767571200000 } from "./db/migrations/1767571200000-RollupKeys";
import { RollupWeeks1767657600000 } from "./db/migrations/1767657600000-RollupWeeks";
import { RollupPeople1767744000000 } from "./db/migrations/1767744000000-RollupPeople";
import { RollupCohorts1767830400000 } from "./db/migrations/1767830400000-RollupCohorts";
import { RollupCohortDays1767916800000 } from "./db/migrations/1767916800000-RollupCohortDays";
import { RollupPeopleSets1768003200000 } from "./db/migrations/1768003200000-RollupPeopleSets";
import { RollupCartsCompact1768089600000 } from "./db/migrations/1768089600000-RollupCartsCompact";
import { RollupAttribution1768176000000 } from "./db/migrations/1768176000000-RollupAttribution";
import { RollupCartTotals1768262400000 } from "./db/migrations/1768262400000-RollupCartTotals";
import { RollupPairs1768348800000 } from "./db/migrations/1768348800000-RollupPairs";
import { IdentityLocks1768435200000 } from "./db/migrations/1768435200000-IdentityLocks";
import { Orders1768521600000 } from "./db/migrations/1768521600000-Orders";
import { IdentityConflicts1768608000000 } from "./db/migrations/1768608000000-IdentityConflicts";
import { CartLastAdds1768694400000 } from "./db/migrations/1768694400000-CartLastAdds";
import { ChannelCredit1768780800000 } from "./db/migrations/1768780800000-ChannelCredit";
import { CartEvents1768867200000 } from "./db/migrations/1768867200000-CartEvents";
import { SessionCredit1768953600000 } from "./db/migrations/1768953600000-SessionCredit";
import { StaleSince1769040000000 } from "./db/migrations/1769040000000-StaleSince";
import { WorkLeases1769126400000 } from "./db/migrations/1769126400000-WorkLeases";
import { ReplicationHeartbeat1769212800000 } from "./db/migrations/1769212800000-ReplicationHeartbeat";
import { KeyScopes1769299200000 } from "./db/migrations/1769299200000-KeyScopes";

export const entities = [Appspace, ApiKey, EventRecord, EventItem, EventProperty, Order, IdentityLink, Product, ExchangeRate, IdBlock];
/** The core migrations (src/db/migrations), then those the read models bring (in timestamp order when run). */
export const migrations = [
  ...[Init1767225600000, People1767312000000, TrustAndSafety1767398400000, Rollups1767484800000, RollupKeys1767571200000, RollupWeeks1767657600000, RollupPeople1767744000000, RollupCohorts1767830400000, RollupCohortDays1767916800000, RollupPeopleSets1768003200000, RollupCartsCompact1768089600000, RollupAttribution1768176000000, RollupCartTotals1768262400000, RollupPairs1768348800000, IdentityLocks1768435200000, Orders1768521600000, IdentityConflicts1768608000000, CartLastAdds1768694400000, ChannelCredit1768780800000, CartEvents1768867200000, SessionCredit1768953600000, StaleSince1769040000000, WorkLeases1769126400000, ReplicationHeartbeat1769212800000, KeyScopes1769299200000],
  ...READ_MODELS.flatMap(model => model.migrations ?? []),
];

export interface DbOptions {
  databaseUrl: string | null;
  sqlitePath: string;
  logSql?: boolean;
  /** Sees every statement (the tests count them). */
  logger?: Logger;
  /** MySQL: connections in the pool (10). */
  poolSize?: number;
  /** MySQL: how long a new connection may take (mysql2's default, 10 s). */
  connectTimeoutMs?: number;
}

/** One DataSource for the app, the tests and the TypeORM CLI: MySQL/MariaDB when a URL is given, else SQLite. */
export function createDataSource(opts: DbOptions): DataSource {
  const common = { entities, migrations, migrationsRun: false, logging: true, logger: opts.logger ?? new SafeLogger(!!opts.logSql) } as const;
  let options: DataSourceOptions;
  if (opts.databaseUrl) {
    options = {
      ...common,
      type: "mysql",
      connectorPackage: "mysql2",
      url: opts.databaseUrl,
      charset: "utf8mb4_bin",
      timezone: "Z",
      supportBigNumbers: true,
      bigNumberStrings: false,
      poolSize: opts.poolSize ?? 10,
      ...(opts.connectTimeoutMs ? { connectTimeout: opts.connectTimeoutMs } : {}),
      // No call-site capture on every query (mysql2's "trace"): single-event ingest +8% (about 0.14 ms of CPU a request).
      // A failed query still names its SQL (QueryFailedError); its stack ends in the driver.
      trace: false,
      // The writes of an ingest transaction whose results nobody reads go in one round trip (Writes). Values from
      // requests are bound, never spliced into a query's text (the few spliced lists are of internal values).
      multipleStatements: true,
    } as DataSourceOptions;
  } else {
    if (opts.sqlitePath !== ":memory:") fs.mkdirSync(path.dirname(opts.sqlitePath), { recursive: true });
    options = {
      ...common,
      type: "better-sqlite3",
      database: opts.sqlitePath,
      enableWAL: opts.sqlitePath !== ":memory:",
      prepareDatabase: (db: { pragma(s: string): unknown }) => db.pragma("busy_timeout = 5000"),
    } as DataSourceOptions;
  }
  return new DataSource(options);
}
