import path from "node:path";
import { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker } from "./appspaces/auth-checker";
import { TrackResolver } from "./ingest/track.resolver";
import { PendingResolver } from "./reports/pending.resolver";
import { ReportsResolver, TopProductResolver } from "./reports/reports.resolver";
import { DateTimeScalar } from "./scalars";

export const SCHEMA_FILE = path.resolve(__dirname, "..", "schema.graphql");

export function createSchema(emit = false): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [TrackResolver, ReportsResolver, TopProductResolver, PendingResolver],
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    emitSchemaFile: emit ? { path: SCHEMA_FILE, sortedSchema: false } : false,
  });
}
