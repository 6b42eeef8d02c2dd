import "./types.js";
import { fileURLToPath } from "node:url";
import { LIMITS } from "@actlab/contracts";
import { pubsubChannels } from "@actlab/queue";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import fp from "fastify-plugin";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { TEnv } from "./env.js";
import auth from "./plugins/app/auth.js";
import infra from "./plugins/app/infra.js";
import metrics from "./plugins/app/metrics.js";
import problems, { frameworkErrors } from "./plugins/app/problems.js";
import securityHeaders from "./plugins/app/security-headers.js";
import docs from "./plugins/external/docs.js";
import catalog from "./routes/catalog/index.js";
import dashboard from "./routes/dashboard/index.js";
import experiments from "./routes/experiments/index.js";
import health from "./routes/health/index.js";
import reports from "./routes/reports/index.js";
import results from "./routes/results/index.js";
import runs from "./routes/runs/index.js";
import webhooks from "./routes/webhooks/index.js";

export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/dist", import.meta.url));

/** Everything under /v1: API keys and rate limits (plugins/app/auth.ts), then the resources. */
async function v1(app: FastifyInstance) {
  await app.register(auth);
  await app.register(experiments);
  await app.register(runs);
  await app.register(catalog);
  await app.register(reports);
  await app.register(results);
  await app.register(webhooks);
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
    frameworkErrors,
    ...server,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate("config", env);
  await app.register(actlab);
  return app;
}
