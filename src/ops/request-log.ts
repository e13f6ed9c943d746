import { randomUUID } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import type { NextFunction, Request, Response } from "express";
import { Kind, OperationDefinitionNode } from "graphql";
import { log } from "../log";
import { httpDuration } from "../metrics";

/**
 * What one request's log line and duration metric say of it. The middleware makes it and writes it out when the
 * response is finished; the Apollo plugin and the resolvers fill it in on the way.
 */
export interface RequestRecord {
  requestId: string;
  /** The operation's root field ("overview"), "multiple" for several, or null when none was resolved (a bad request). */
  operation: string | null;
  /** query or mutation. */
  type: string | null;
  /** The client's name for the operation (`query Dashboard {…}`), cut to 64 characters; logged, never a label. */
  operationName: string | null;
  appspace: number | null;
  /** For trackEvent(s): events answered ok, and events refused as invalid. */
  accepted?: number;
  rejected?: number;
  /** The codes of the errors answered. */
  errors?: string[];
  /** With read replicas: where a query read ("replica 1", "primary"). */
  readFrom?: string;
}

/** The status logged for a request whose client closed the connection before the answer (nginx's convention). */
const CLIENT_CLOSED = 499;

/** A client's x-request-id is kept when it is a plain token; anything else is replaced (it goes into the logs). */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function recordOf(res: Response): RequestRecord {
  return res.locals.record as RequestRecord;
}

/**
 * Express middleware, before the GraphQL route: gives the request its id (the client's x-request-id, else a new
 * UUID), sends it back in x-request-id, and once the response is finished logs one line and observes
 * http_request_duration_seconds by root field, type and status.
 */
export function observeRequests(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  const sent = req.headers["x-request-id"];
  const requestId = typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
  const record: RequestRecord = { requestId, operation: null, type: null, operationName: null, appspace: null };
  res.locals.record = record;
  res.setHeader("x-request-id", requestId);
  // "close", not "finish": a request whose client went away before its answer is logged and timed too, as 499.
  res.once("close", () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED;
    httpDuration.observe({ operation: record.operation ?? "none", type: record.type ?? "none", status: String(status) }, seconds);
    const line = { scope: "http", method: req.method, ...record, status, durationMs: Math.round(seconds * 10_000) / 10 };
    if (status >= 500) log.warn(line, "request");
    else log.info(line, "request");
  });
  next();
}

/**
 * Notes the code of an error thrown before Apollo's pipeline runs (while the context is made: an unknown key, a
 * request over the key's limit, an unreachable database), which the plugin below does not see.
 */
export function noteEarlyError(record: RequestRecord, err: unknown): void {
  const code = (err as { extensions?: { code?: unknown } })?.extensions?.code;
  record.errors = [typeof code === "string" ? code : "INTERNAL_SERVER_ERROR"];
}

/** The root fields an operation selects (fragments spread at the root are counted as "multiple"). */
function rootField(operation: OperationDefinitionNode): string {
  const fields = operation.selectionSet.selections;
  if (fields.length === 1 && fields[0].kind === Kind.FIELD) return fields[0].name.value;
  return "multiple";
}

/**
 * Fills the request's record from what Apollo resolved: the operation (its root field, a name of the schema and so
 * a bounded label, since the document is validated by then), its type and name, and the codes of its errors.
 */
export function recordOperations<C extends { record: RequestRecord }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (!operation) return;
          contextValue.record.operation = rootField(operation);
          contextValue.record.type = operation.operation;
          contextValue.record.operationName = operation.name?.value.slice(0, 64) ?? null;
        },
        async didEncounterErrors({ errors, contextValue }) {
          contextValue.record.errors = [...new Set(errors.map(e => String(e.extensions?.code ?? "INTERNAL_SERVER_ERROR")))];
        },
      };
    },
  };
}
