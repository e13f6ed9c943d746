import path from "node:path";
import { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker } from "./appspaces/auth-checker";
import { AttributionResolver } from "./attribution/attribution.resolver";
import { JourneyEventResolver, JourneyItemResolver, PeopleResolver } from "./identity/people.resolver";
import { IngestionStatsResolver } from "./ingest/stats";
import { TrackResolver } from "./ingest/track.resolver";
import { ReportsResolver, TopProductResolver } from "./reports/reports.resolver";
import { DateTimeScalar } from "./scalars";

export const SCHEMA_FILE = path.resolve(__dirname, "..", "schema.graphql");

export function createSchema(emit = false): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      TrackResolver, IngestionStatsResolver, ReportsResolver, TopProductResolver, AttributionResolver, PeopleResolver, JourneyEventResolver, JourneyItemResolver,
    ],
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    emitSchemaFile: emit ? { path: SCHEMA_FILE, sortedSchema: false } : false,
  });
}
