import { countRunsByStatus } from "@actlab/db";
import { resolveWithin } from "@actlab/queue";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface AppMetrics {
  registry: Registry;
}

/**
 * Prometheus metrics on a registry of this app instance: HTTP latency by route, and, read at
 * scrape time, BullMQ queue depth and runs by status.
 */
async function metrics(app: FastifyInstance) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "actlab_api_" });

  const latency = new Histogram({
    name: "actlab_http_request_duration_seconds",
    help: "HTTP request latency by method, route pattern and status code",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  new Gauge({
    name: "actlab_queue_jobs",
    help: "BullMQ jobs per queue and state",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [name, queue] of Object.entries(app.producer.queues)) {
        // A scrape must not hang on an outage: a queue that does not answer is left out.
        const counts = await resolveWithin(
          queue.getJobCounts("waiting", "active", "delayed", "prioritized", "failed").catch(() => undefined),
          500,
        );
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue: name, state }, n);
      }
    },
  });

  new Gauge({
    name: "actlab_runs",
    help: "Runs by status (all tenants)",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await resolveWithin(
        countRunsByStatus(app.db).catch(() => undefined),
        1_000,
      );
      for (const r of rows ?? []) this.set({ status: r.status }, r.count);
    },
  });

  new Gauge({
    name: "actlab_sse_streams",
    help: "Open Server-Sent Event streams",
    registers: [registry],
    collect() {
      this.set(app.sseStreams.size);
    },
  });

  app.addHook("onResponse", async (request, reply) => {
    latency.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.decorate("appMetrics", { registry });
}

export default fp(metrics, { name: "actlab-metrics", dependencies: ["actlab-infra"] });
