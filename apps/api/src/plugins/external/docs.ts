import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { jsonSchemaTransform } from "fastify-type-provider-zod";

/** OpenAPI 3.0 generated from the routes' zod schemas; Swagger UI at /docs, the document at /openapi.json. */
async function docs(app: FastifyInstance) {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "actlab API",
        version: "0.1.0",
        description:
          "Training-as-a-service for comparing hidden-layer activations. Every /v1 route needs " +
          "`Authorization: Bearer <API key>`. Errors are RFC 9457 `application/problem+json`. Limits: " +
          "body ≤ 1 MiB (413), epochs ≤ 1000, hidden layers ≤ 10, units ≤ 1024, variants × repeats ≤ 64, " +
          "predict batch ≤ 256 (400), queued + running runs per tenant ≤ 256 (429 with type " +
          "/problems/active-runs-limit), requests per key per window (429 with Retry-After).",
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", description: "an actlab API key" },
          accessToken: {
            type: "apiKey",
            in: "query",
            name: "access_token",
            description: "only on /v1/experiments/{id}/events, for EventSource",
          },
        },
      },
      tags: [
        { name: "experiments", description: "Submit, watch, compare, cancel" },
        { name: "runs", description: "One variant × repeat: status, model, predictions" },
        { name: "catalog", description: "Activations, datasets, presets" },
        {
          name: "webhooks",
          description:
            "Standard Webhooks deliveries (webhook-id, webhook-timestamp, webhook-signature) of experiment.finished and run.failed",
        },
        { name: "operations", description: "Health, readiness, Prometheus" },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs", staticCSP: true });
}

export default fp(docs, { name: "actlab-docs" });
