import "reflect-metadata";
import http from "node:http";
import { AddressInfo } from "node:net";
import { ApolloServer, ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import { unwrapResolverError } from "@apollo/server/errors";
import { expressMiddleware } from "@as-integrations/express5";
import cors from "cors";
import express, { NextFunction, Request, Response } from "express";
import { GraphQLFormattedError } from "graphql";
import { DataSource } from "typeorm";
import { chooseReadSource, Context, createContext, createServices, noteDatabaseFailure, ServiceOptions } from "./context";
import { PUBLIC_CODES, RETRY_AFTER_SECONDS, unavailableMessage } from "./errors";
import { isTransientFailure } from "./db/failures";
import { healthOf } from "./db/health";
import { logFailure } from "./log";
import { createSchema } from "./schema";
import { RequestDrain } from "./drain";
import { healthRoutes } from "./ops/health";
import { dashboardRoutes } from "./ops/dashboard";
import { noteEarlyError, observeRequests, recordOf, recordOperations } from "./ops/request-log";
import { serverMetrics } from "./ops/server-metrics";

export const BODY_LIMIT = "1mb";

export interface RunningServer {
  url: string;
  port: number;
  /**
   * Graceful stop: no new connections, the requests in flight and the writes they started finish, background
   * workers stop at a safe point, then Apollo. The database stays open (its owner closes it).
   */
  stop(): Promise<void>;
  /** What a stop still waits for: requests in flight, and the background workers not yet stopped. */
  pending(): { requests: number; workers: string[] };
  /** Where GET /metrics answers: on the server's own port, or on METRICS_PORT. */
  metricsUrl: string;
}

/**
 * What a client sees of an error. Ours and GraphQL's keep their message and code; a database that is unreachable or
 * still busy after the retries is UNAVAILABLE (503, statusFromErrors); anything else becomes a bare
 * INTERNAL_SERVER_ERROR, logged by statusFromErrors with the request id.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === "string" && PUBLIC_CODES.has(code)) {
    const { stacktrace: _s, exception: _e, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  const original = unwrapResolverError(error);
  if (isTransientFailure(original)) {
    return { message: unavailableMessage(original), extensions: { code: "UNAVAILABLE" } };
  }
  return { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } };
}

/**
 * The HTTP status from the errors, so that a client can tell from it whether to retry: 503 with Retry-After when the
 * database was unreachable or busy (nothing was stored; the same request may be sent again), 500 for a bug, 400 for a
 * client's error that a plugin raised without a status (the query limits). Bugs are logged here, where the request id is.
 */
const statusFromErrors: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ errors, contextValue }) {
        for (const error of errors) {
          if (PUBLIC_CODES.has(String(error.extensions?.code))) continue;
          const original = unwrapResolverError(error);
          if (isTransientFailure(original)) noteDatabaseFailure(contextValue, original);
          else logFailure("graphql", "internal error", original, { request: contextValue.requestId });
        }
      },
      async willSendResponse({ response, errors }) {
        if (!errors?.length) return;
        const originals = errors.map(e => unwrapResolverError(e));
        if (originals.some(isTransientFailure)) {
          response.http.status = 503;
          response.http.headers.set("retry-after", String(RETRY_AFTER_SECONDS));
        } else if (errors.some(e => !PUBLIC_CODES.has(String(e.extensions?.code)))) response.http.status = 500;
        else if (response.http.status === undefined || response.http.status === 500) response.http.status = 400;
      },
    };
  },
};

/** A POST whose body is not declared JSON gets a one-line hint (Apollo would answer with a long CSRF explanation). */
function requireJsonPost(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== "POST" || req.is("application/json")) return next();
  recordOf(res).errors = ["BAD_REQUEST"];
  jsonError(res, 400, "BAD_REQUEST", 'Send the request with content-type: application/json (a JSON body such as {"query": "{ overview { totalRevenue } }"})');
}

function jsonError(res: Response, status: number, code: string, message: string) {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/** Listens, or rejects with the reason (EADDRINUSE: a port taken), which start-up reports as its failure. */
function listenOn(server: http.Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Limits on every operation, checked before anything runs: GraphQL Armor's rules, and graphql-js's token limit. */
export const QUERY_LIMITS = {
  // Introspection counts too (the standard introspection query is 21 deep), so no type cycle can be walked without end.
  maxDepth: { n: 25, ignoreIntrospection: false },
  maxAliases: { n: 15 },
  maxDirectives: { n: 10 },
  // Armor's cost model: every report with every field in one request costs about 310.
  costLimit: { maxCost: 1000 },
  // Counted by graphql-js's parser (parseOptions below), which answers a 400 parse error.
  maxTokens: { enabled: false },
} as const;
export const MAX_TOKENS = 5000;

/**
 * Apollo on Express with the body limit, CORS, error masking, request logs and metrics, health checks and graceful
 * drain; the app and the tests both start it here.
 */
export interface ServerOptions extends ServiceOptions {
  production?: boolean;
  /** Origins browsers may call from (CORS_ORIGINS): "*" (the default) or a list. */
  corsOrigins?: "*" | readonly string[];
  /** Whether introspection is answered (INTROSPECTION); by default outside production only. */
  introspection?: boolean;
  /** A port of its own for GET /metrics (METRICS_PORT; 0: any free one); by default /metrics is on the server's port. */
  metricsPort?: number | null;
  /** false: no /metrics at all (a cluster worker: the primary serves every worker's, summed). */
  serveMetrics?: boolean;
  /** Whether GraphiQL is served at /explorer (EXPLORER); by default outside production only. */
  explorer?: boolean;
  /** Express's "trust proxy" (TRUST_PROXY): which proxies may say the client's address in X-Forwarded-For. */
  trustProxy?: boolean | number | string;
}

/** A query reads from a read replica when there is one that serves (DATABASE_READ_URLS): chosen before execution. */
const readsFromReplicas: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, contextValue }) {
        if (operation) await chooseReadSource(contextValue, operation.operation);
      },
    };
  },
};

export async function createServer(db: DataSource, opts: ServerOptions = {}) {
  const app = express();
  const httpServer = http.createServer(app);
  // Idle keep-alive connections stay open longer than clients and load balancers keep theirs (often 60 s): with Node's
  // 5 s, a client that reuses a connection as the server closes it gets a reset, and a POST is not retried for it.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const services = createServices(db, opts);
  // Field suggestions ("Did you mean ...?") help in Sandbox; in production they would map the schema for an attacker.
  const armor = new ApolloArmor({ ...QUERY_LIMITS, blockFieldSuggestion: { enabled: !!opts.production } }).protect();
  const apollo = new ApolloServer<Context>({
    schema: await createSchema(),
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: opts.introspection ?? !opts.production,
    csrfPrevention: true,
    parseOptions: { maxTokens: MAX_TOKENS },
    allowBatchedHttpRequests: false,
    // Its own SIGTERM handler would stop Apollo and kill the process before the requests in flight are answered:
    // src/index.ts shuts down in order instead (RunningServer.stop).
    stopOnTerminationSignals: false,
    validationRules: armor.validationRules,
    plugins: [...armor.plugins, statusFromErrors, recordOperations<Context>(), readsFromReplicas],
  });
  await apollo.start();

  app.disable("x-powered-by");
  app.set("trust proxy", opts.trustProxy ?? false);
  const drain = new RequestDrain(httpServer);
  const metrics = serverMetrics(db);
  const serveMetrics = async (_req: Request, res: Response) => void res.type(metrics.contentType).send(await metrics.text());
  // Before the drain: while it drains, readiness answers 503 "shutting down" and liveness 200.
  app.use(healthRoutes(db, () => drain.draining));
  app.use(dashboardRoutes(opts.explorer ?? !opts.production));
  const ownMetricsPort = opts.serveMetrics === false ? null : (opts.metricsPort ?? null);
  if (opts.serveMetrics !== false && opts.metricsPort == null) app.get("/metrics", serveMetrics);
  app.use(drain.middleware);
  app.use(
    "/graphql",
    observeRequests,
    cors({ origin: opts.corsOrigins === undefined || opts.corsOrigins === "*" ? "*" : [...opts.corsOrigins], exposedHeaders: ["x-request-id", "retry-after"] }),
    requireJsonPost,
    express.json({ limit: BODY_LIMIT }),
    expressMiddleware(apollo, {
      context: ({ req, res }) => createContext(services, req, recordOf(res)).catch(err => {
        noteEarlyError(recordOf(res), err);
        throw err;
      }),
    }),
  );
  app.use((err: { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === "entity.too.large") return jsonError(res, 413, "PAYLOAD_TOO_LARGE", `Request body is larger than ${BODY_LIMIT.toUpperCase()}`);
    if (err.type === "entity.parse.failed") return jsonError(res, 400, "BAD_REQUEST", "Request body is not valid JSON");
    if (err.status && err.status < 500) return jsonError(res, err.status, "BAD_REQUEST", "Bad request");
    logFailure("http", "internal error", err);
    return jsonError(res, 500, "INTERNAL_SERVER_ERROR", "Internal server error");
  });

  return {
    app,
    /** The registries of this server's metrics (for a cluster worker to hand to the primary's aggregation). */
    metricsRegistries: metrics.registries,
    async listen(port: number, host?: string): Promise<RunningServer> {
      await listenOn(httpServer, port, host);
      const actual = (httpServer.address() as AddressInfo).port;
      const metricsServer = ownMetricsPort === null ? null : http.createServer(express().get("/metrics", serveMetrics));
      if (metricsServer) await listenOn(metricsServer, ownMetricsPort!, host);
      const metricsPort = metricsServer ? (metricsServer.address() as AddressInfo).port : actual;
      const workers = {
        deletions: services.deletions, rollups: services.rollups, retention: services.retention,
        ...(services.ratesFetcher ? { rates: services.ratesFetcher } : {}),
        ...(services.replicas.enabled ? { replicas: services.replicas } : {}),
      };
      for (const worker of Object.values(workers)) void worker.start();
      const running = new Set(Object.keys(workers));
      const stop = async () => {
        await drain.drain();
        await services.writes.idle();
        await Promise.all(Object.entries(workers).map(async ([name, worker]) => {
          await worker.stop();
          running.delete(name);
        }));
        await apollo.stop();
        await services.limits.close();
        healthOf(db).stop();
        if (metricsServer) await new Promise(resolve => metricsServer.close(resolve));
      };
      const pending = () => ({ requests: drain.requests, workers: [...running] });
      return { port: actual, url: `http://localhost:${actual}/graphql`, stop, pending, metricsUrl: `http://localhost:${metricsPort}/metrics` };
    },
  };
}
