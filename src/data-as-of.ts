import { Field, MiddlewareFn, ObjectType } from "type-graphql";
import type { Context } from "./context";
import { DateTimeScalar } from "./scalars";

/*
 * dataAsOf: every report says up to when the data it was computed from is complete. A report read from a replica
 * (DATABASE_READ_URLS) is exact as of the last heartbeat the replica applied; on the primary, as of when it was read
 * (src/db/replicas.ts).
 */

/** What every report answers besides its numbers: its types extend it (a GraphQL type of its own only if used). */
@ObjectType()
export abstract class Report {
  @Field(() => DateTimeScalar, {
    description:
      "The time (UTC) up to which the data this answer was computed from is complete: everything stored before it is counted. On a read replica, the replica's last applied heartbeat from the primary (about a second behind the primary at most when caught up); on the primary, when the report was read.",
  })
  dataAsOf?: Date;
}

/** Stamps a report (and the previous period's, when asked) with the time its request's reads are complete up to. */
export const StampDataAsOf: MiddlewareFn<Context> = async ({ context }, next) => stamp(await next(), context.reads.dataAsOf);

function stamp<T extends object>(report: T & { previous?: unknown }, dataAsOf: Date): T {
  // A copy with the same prototype: a service may hand out a shared object (an empty report).
  const stamped = Object.assign(Object.create(Object.getPrototypeOf(report)) as T, report, { dataAsOf });
  if (report.previous && typeof report.previous === "object") Object.assign(stamped, { previous: stamp(report.previous, dataAsOf) });
  return stamped;
}
