import { ZProblem } from "@actlab/contracts";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { z } from "zod";
import { MEDIA_TYPE_KEY } from "../../routes/schemas.js";

type JsonSchema = Record<string, unknown> & { anyOf?: JsonSchema[]; description?: string };

/**
 * Turns one response's JSON schema into an OpenAPI response with a `content` map, which
 * @fastify/swagger then uses as given: problems (4xx/5xx) are `application/problem+json`, a schema
 * marked with MEDIA_TYPE_KEY is that media type, and a union whose members are marked (the report:
 * JSON or Markdown) becomes one entry per media type. Everything else is JSON, as before.
 */
function withContent(status: string, schema: JsonSchema): JsonSchema {
  const description = schema.description ?? "";
  // No body (204): z.null() arrives as OpenAPI 3.0's `nullable` + `enum: [null]`; type "null" tells
  // @fastify/swagger to document no content.
  const enumValues = schema.enum as unknown[] | undefined;
  if (schema.type === "null" || (enumValues?.length === 1 && enumValues[0] === null)) {
    return { type: "null", description };
  }
  const strip = ({ [MEDIA_TYPE_KEY]: _media, ...rest }: JsonSchema) => rest;
  const content: Record<string, { schema: JsonSchema; example?: unknown }> = {};
  const members = schema.anyOf?.some((m) => MEDIA_TYPE_KEY in m) ? schema.anyOf : [schema];
  for (const member of members) {
    const media = member[MEDIA_TYPE_KEY] as string | undefined;
    if (!media && Number(status) >= 400) {
      // Every problem has one shape: one shared component instead of a copy per response.
      // Its example (one of its own status, routes/schemas.ts) moves to the media type.
      content["application/problem+json"] = {
        schema: { $ref: "#/components/schemas/Problem" },
        ...(member.example === undefined ? {} : { example: member.example }),
      };
      continue;
    }
    const { description: _d, ...body } = strip(member);
    content[media ?? "application/json"] = { schema: body };
  }
  return { description, content };
}

/** jsonSchemaTransform (zod → JSON schema), then each response given its media types. */
const transform: typeof jsonSchemaTransform = (input) => {
  const out = jsonSchemaTransform(input);
  const schema = out.schema as { response?: Record<string, JsonSchema> };
  if (schema.response) {
    schema.response = Object.fromEntries(
      Object.entries(schema.response).map(([status, s]) => [status, withContent(status, s)]),
    );
  }
  return out;
};

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
        // The project declares no open-source license (package.json is private); say so plainly.
        license: { name: "Proprietary (no license granted)" },
      },
      // Relative: every install serves its own document, so paths resolve against wherever it was fetched.
      servers: [{ url: "/", description: "the actlab install serving this document" }],
      components: {
        // io "input": RFC 9457 lets problems carry extension members, so no additionalProperties: false.
        schemas: {
          Problem: z.toJSONSchema(ZProblem, { target: "openapi-3.0", io: "input" }) as Record<
            string,
            unknown
          >,
        },
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
    transform,
  });
  // staticCSP: Swagger UI's own policy on /docs (no 'unsafe-inline'). BaseLayout: without the
  // top bar, whose Swagger logo is an SVG with an inline <style> that policy blocks (a CSP
  // violation on every load); the bar's other part, a box to load another API's document, is not
  // one this page needs (tests/e2e/dashboard.test.ts loads /docs and checks for violations).
  await app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    uiConfig: { layout: "BaseLayout" },
  });
}

export default fp(docs, { name: "actlab-docs" });
