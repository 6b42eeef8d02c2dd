import { ZHealth, ZReady } from "@actlab/contracts";
import { pingDatabase } from "@actlab/db";
import { rejectAfter, TimeoutError } from "@actlab/queue";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { MALFORMED_URL, PUBLIC, problemResponses, withMediaType } from "../schemas.js";

/** null if `check` answers within `ms`, else a short reason (driver messages can carry hostnames and users). */
async function probe(check: () => Promise<unknown>, ms: number): Promise<string | null> {
  try {
    await rejectAfter(check(), ms, "the check");
    return null;
  } catch (err) {
    return err instanceof TimeoutError ? `no answer within ${ms} ms` : "not reachable";
  }
}

/** Unauthenticated operational endpoints (outside /v1). */
const health: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/healthz",
    {
      schema: {
        operationId: "getHealth",
        summary: "Liveness: the process answers",
        tags: ["operations"],
        security: PUBLIC,
        response: { 200: ZHealth.describe("the process is up"), ...problemResponses(...MALFORMED_URL) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        operationId: "getReadiness",
        summary: "Readiness: Postgres and Redis reachable (503 names the one that is not)",
        tags: ["operations"],
        security: PUBLIC,
        response: {
          200: ZReady.describe("Postgres and Redis answer"),
          ...problemResponses(...MALFORMED_URL),
          // Not a problem: the same body as 200, so probes parse one shape.
          503: withMediaType(
            ZReady,
            "application/json",
            "Postgres or Redis does not answer (named in `detail`)",
          ),
        },
      },
    },
    async (_request, reply) => {
      const [pg, redis] = await Promise.all([
        probe(() => pingDatabase(app.db), 1_500),
        probe(() => app.redis.ping(), 1_500),
      ]);
      const checks = { postgres: pg ? `down: ${pg}` : "ok", redis: redis ? `down: ${redis}` : "ok" };
      if (!pg && !redis) return { status: "ready" as const, checks };
      const down = [pg && "postgres", redis && "redis"].filter(Boolean).join(" and ");
      return reply
        .code(503)
        .send({ status: "unavailable" as const, checks, detail: `${down} not reachable` });
    },
  );

  app.get(
    "/metrics",
    {
      schema: {
        operationId: "getPrometheusMetrics",
        summary: "Prometheus metrics",
        tags: ["operations"],
        security: PUBLIC,
        response: {
          200: withMediaType(z.string(), "text/plain", "Prometheus text exposition format"),
          ...problemResponses(...MALFORMED_URL),
        },
      },
    },
    async (_request, reply) => {
      const body = await app.appMetrics.registry.metrics();
      return reply.type(app.appMetrics.registry.contentType).send(body);
    },
  );

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
};

export default health;
