import "./types.js";
import { fileURLToPath } from "node:url";
import { LIMITS } from "@actlab/contracts";
import { pubsubChannels } from "@actlab/queue";
import fastifyRateLimit from "@fastify/rate-limit";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import fp from "fastify-plugin";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { TEnv } from "./env.js";
import { buildProblem } from "./errors.js";
import { requireApiKey } from "./plugins/app/auth.js";
import { AuthFailureLimiter } from "./plugins/app/auth-failures.js";
import infra from "./plugins/app/infra.js";
import metrics from "./plugins/app/metrics.js";
import problems from "./plugins/app/problems.js";
import { batchedRedisStore } from "./plugins/app/rate-limit-store.js";
import securityHeaders from "./plugins/app/security-headers.js";
import docs from "./plugins/external/docs.js";
import catalog from "./routes/catalog/index.js";
import dashboard from "./routes/dashboard/index.js";
import experiments from "./routes/experiments/index.js";
import health from "./routes/health/index.js";
import reports from "./routes/reports/index.js";
import runs from "./routes/runs/index.js";

export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/dist", import.meta.url));

/**
 * Everything under /v1: API key first (with the per-client limit on failed attempts), then the
 * per-key rate limit (both stored in Redis), then routes.
 */
async function v1(app: FastifyInstance) {
  const failures = new AuthFailureLimiter(app.redis, {
    prefix: app.config.QUEUE_PREFIX,
    limit: app.config.AUTH_FAILURE_LIMIT,
    windowMs: app.config.AUTH_FAILURE_WINDOW_MS,
  });
  app.addHook("onRequest", requireApiKey(failures));
  await app.register(fastifyRateLimit, {
    max: app.config.RATE_LIMIT_MAX,
    timeWindow: app.config.RATE_LIMIT_WINDOW_MS,
    store: batchedRedisStore({ redis: app.redis, prefix: `${app.config.QUEUE_PREFIX}:ratelimit:` }),
    // Redis down: serve rather than fail every request (the queue path answers 503/202 by itself).
    skipOnError: true,
    keyGenerator: (request) => request.auth?.keyId ?? request.ip,
  });
  await app.register(experiments);
  await app.register(runs);
  await app.register(catalog);
  await app.register(reports);
}

/**
 * The whole app as a plugin: error handling → infrastructure → metrics → security headers →
 * docs → routes. Wrapped with fastify-plugin so its decorations (db, producer, …) are visible
 * on the instance buildApp returns, as tests and server.ts need.
 */
export const actlab = fp(async function actlab(app: FastifyInstance) {
  await app.register(problems);
  // Before infra: it listens on the key-revocation channel.
  app.decorate("channels", pubsubChannels(app.config.QUEUE_PREFIX));
  await app.register(infra);
  await app.register(metrics);
  await app.register(securityHeaders);
  await app.register(docs);
  app.decorateRequest("auth", null);
  await app.register(health);
  await app.register(v1, { prefix: "/v1" });
  await app.register(dashboard, { root: app.config.DASHBOARD_DIR ?? DEFAULT_DASHBOARD_DIR });
});

/** What helmet sends, for the answers below that Fastify gives before any hook runs. */
const BEFORE_ROUTING_HEADERS = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-frame-options": "SAMEORIGIN",
};

/**
 * Fastify answers a path that is not valid percent-encoding (FST_ERR_BAD_URL) or has a parameter
 * over maxParamLength (FST_ERR_MAX_PARAM_LENGTH) before routing, so neither the error handler
 * nor helmet sees them; by default that is a plain JSON body echoing the URL. Found by the
 * reliability fuzz (tests/reliability): here they become problem+json like every other error.
 */
function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const tooLong = error.code === "FST_ERR_MAX_PARAM_LENGTH";
  const problem = buildProblem("badRequest", {
    status: tooLong ? 414 : 400,
    detail: tooLong
      ? "a path parameter is too long (ids are UUIDs)"
      : "the URL path is not valid percent-encoding",
  });
  void reply
    .code(problem.status)
    .headers(BEFORE_ROUTING_HEADERS)
    .type("application/problem+json")
    .send(problem);
}

export interface BuildAppOptions {
  env: TEnv;
  logger?: FastifyServerOptions["logger"];
  /** Extra Fastify server options (timeouts) from server.ts. */
  server?: Omit<FastifyServerOptions, "logger">;
}

/** Builds (does not start) the API; tests call this and use `app.inject()`. */
export async function buildApp({ env, logger = false, server = {} }: BuildAppOptions) {
  const app = Fastify({
    logger,
    bodyLimit: LIMITS.maxBodyBytes,
    trustProxy: env.TRUST_PROXY,
    // Problem bodies carry their own `instance`; request ids help correlate logs.
    requestIdHeader: "x-request-id",
    frameworkErrors: frameworkErrors as FastifyServerOptions["frameworkErrors"],
    ...server,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate("config", env);
  await app.register(actlab);
  return app;
}
