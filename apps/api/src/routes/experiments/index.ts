import { Readable } from "node:stream";
import {
  EXPERIMENT_SORTS,
  LIMITS,
  METRIC_FIELDS,
  resolveExperimentRequest,
  type TExperimentSpec,
  type TMetricsResponse,
  ZActivationName,
  ZCreateExperimentBody,
  ZEstimate,
  ZExperiment,
  ZExperimentList,
  ZExperimentStatus,
  ZMetricField,
  ZMetricsResponse,
} from "@actlab/contracts";
import type { FastifyBaseLogger, FastifySchemaCompiler } from "fastify";
import { type FastifyPluginAsyncZod, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../errors.js";
import { cancelExperiment, deleteExperiment } from "../../services/cancel.js";
import { createExperiment } from "../../services/experiment-create.js";
import { estimateExperiment } from "../../services/experiment-estimate.js";
import { listExperiments } from "../../services/experiment-list.js";
import { assertExperimentVisible, getExperiment } from "../../services/experiment-read.js";
import { streamExperimentMetrics } from "../../services/metrics-series.js";
import { parseLastEventId, streamEvents } from "../../services/sse.js";
import { TenantTurns } from "../../services/tenant-turns.js";
import {
  BEARER,
  COMMON_ERRORS,
  commaList,
  dtoSerializer,
  problemResponses,
  resourceRouteSchema,
  withMediaType,
  ZIdParams,
} from "../schemas.js";

/**
 * Validates the body through resolveExperimentRequest, which applies presets and reports each
 * bad field with its dotted path (the documented schema alone would only say "no union member matched").
 */
const createValidator: FastifySchemaCompiler<unknown> = (route) => {
  if (route.httpPart !== "body") return validatorCompiler(route as Parameters<typeof validatorCompiler>[0]);
  return (data: unknown) => {
    const result = resolveExperimentRequest(data ?? {});
    if (result.ok) return { value: result.spec };
    return {
      error: new AppError("validation", `${result.issues.length} invalid field(s) in the experiment`, {
        errors: result.issues,
      }),
    };
  };
};

const ZIdempotencyHeaders = z.looseObject({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe("retrying with the same key and body returns the same experiment instead of a second one"),
});

const ZListQuery = z.object({
  status: commaList(ZExperimentStatus).optional().describe("comma-separated statuses"),
  q: z.string().trim().min(1).max(LIMITS.maxNameLength).optional().describe("part of the name, any case"),
  activation: commaList(ZActivationName)
    .optional()
    .describe("comma-separated activations: experiments with a variant of any of them"),
  createdFrom: z.iso.date().optional().describe("created on or after this day (YYYY-MM-DD, UTC)"),
  createdTo: z.iso.date().optional().describe("created on or before this day (YYYY-MM-DD, UTC)"),
  sort: z
    .enum(EXPERIMENT_SORTS)
    .default("newest")
    .describe(
      "newest or oldest first, by name, or by accuracy (the best variant's mean test accuracy, highest first, " +
        "experiments without one last); a cursor continues the order it came from",
    ),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional().describe("nextCursor of the previous page"),
});

const ZMetricsQuery = z.object({
  runs: commaList(z.string().max(100)).optional().describe("comma-separated run ids (default: all runs)"),
  cell: z
    .string()
    .max(2_000)
    .transform((s, ctx) => {
      try {
        const v: unknown = JSON.parse(s);
        if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch {}
      ctx.addIssue({
        code: "custom",
        message: 'a JSON object of swept values, e.g. {"model.hiddenLayers":4}',
      });
      return z.NEVER;
    })
    .optional()
    .describe(
      'only the runs of this cell: its swept values as JSON, e.g. {"model.hiddenLayers":4} ({} without a sweep)',
    ),
  fields: commaList(ZMetricField)
    .optional()
    .describe(`comma-separated series to send (default all): ${METRIC_FIELDS.join(", ")}`),
  // Bounded: a value past Postgres' int range would fail in the query (a 500), not match nothing.
  afterEpoch: z.coerce
    .number()
    .int()
    .min(0)
    .max(LIMITS.maxEpochs)
    .default(0)
    .describe("only epochs after this one"),
});

const experiments: FastifyPluginAsyncZod = async (app) => {
  /** What cancel and delete take part in the run lifecycle with. */
  const lifecycleDeps = (log: FastifyBaseLogger) => ({
    db: app.db,
    redis: app.redis,
    channels: app.channels,
    producer: app.producer,
    webhooks: app.webhookProducer,
    log,
  });
  // Per app instance: each API process serializes its own tenants' creations (see TenantTurns).
  const turns = new TenantTurns();
  app.post(
    "/experiments",
    {
      validatorCompiler: createValidator,
      serializerCompiler: dtoSerializer,
      schema: {
        operationId: "createExperiment",
        summary: "Submit an experiment (every variant × repeat becomes a queued run)",
        tags: ["experiments"],
        security: BEARER,
        headers: ZIdempotencyHeaders,
        body: ZCreateExperimentBody,
        response: {
          202: ZExperiment.describe("accepted: the experiment with its queued runs and links"),
          ...problemResponses(...COMMON_ERRORS, 409, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const spec = request.body as TExperimentSpec;
      await app.datasets.assertFits(spec);
      const { experiment, replayed } = await createExperiment({
        db: app.db,
        producer: app.producer,
        turns,
        log: request.log,
        tenantId: request.auth!.tenantId,
        spec,
        idempotencyKey: request.headers["idempotency-key"],
      });
      if (replayed) reply.header("idempotent-replayed", "true");
      return reply.code(202).header("location", experiment.links.self!).send(experiment);
    },
  );

  app.post(
    "/experiments/estimate",
    {
      validatorCompiler: createValidator,
      schema: {
        operationId: "estimateExperiment",
        summary: "How long an experiment would train, before submitting it (nothing is stored)",
        description:
          "The same body as `POST /v1/experiments`, validated the same way (the same 400s). The pace is the " +
          "median of the latest succeeded runs on the queue its runs would go to (their backend), scaled to this " +
          "spec by network size × samples; the workers are those connected to that queue. `secondsPerEpoch` and " +
          "`seconds` are null, with `note` saying why, when no run has been measured or no worker is connected. " +
          "docs/results.md (Estimates) says how far to trust it.",
        tags: ["experiments"],
        security: BEARER,
        body: ZCreateExperimentBody,
        response: {
          200: ZEstimate.describe("the runs it would create and how long they would take"),
          ...problemResponses(...COMMON_ERRORS, 413, 415),
        },
      },
    },
    async (request) => {
      const spec = request.body as TExperimentSpec;
      await app.datasets.assertFits(spec);
      return estimateExperiment({ db: app.db, producer: app.producer, log: request.log, spec });
    },
  );

  app.get(
    "/experiments",
    {
      schema: {
        operationId: "listExperiments",
        summary:
          "List experiments (newest or oldest first, by name or by best accuracy), filtered by status, name, activation and day",
        tags: ["experiments"],
        security: BEARER,
        querystring: ZListQuery,
        response: {
          200: ZExperimentList.describe("one page of experiments and the cursor of the next"),
          ...problemResponses(...COMMON_ERRORS),
        },
      },
    },
    async (request) => {
      const { status, q, activation, createdFrom, createdTo, sort, limit, cursor } = request.query;
      if (createdFrom && createdTo && createdTo < createdFrom) {
        throw new AppError("validation", "createdTo is before createdFrom", {
          errors: [{ path: "createdTo", message: `must not be before createdFrom (${createdFrom})` }],
        });
      }
      return listExperiments({
        db: app.db,
        tenantId: request.auth!.tenantId,
        filter: {
          statuses: status,
          search: q,
          activations: activation,
          createdFrom: createdFrom ? new Date(`${createdFrom}T00:00:00Z`) : undefined,
          // A whole day: up to the start of the next one.
          createdBefore: createdTo ? new Date(Date.parse(`${createdTo}T00:00:00Z`) + 86_400_000) : undefined,
        },
        sort,
        limit,
        cursor,
      });
    },
  );

  app.get(
    "/experiments/:id",
    {
      serializerCompiler: dtoSerializer,
      schema: resourceRouteSchema({
        operationId: "getExperiment",
        summary: "One experiment with its runs and a per-variant summary",
        tags: ["experiments"],
        response: {
          200: ZExperiment.describe("the experiment, its runs with progress and the per-variant summary"),
        },
      }),
    },
    async (request) =>
      getExperiment({
        db: app.db,
        tenantId: request.auth!.tenantId,
        id: request.params.id,
        staleAfterMs: app.config.RUN_STALE_AFTER_MS,
      }),
  );

  app.get(
    "/experiments/:id/metrics",
    {
      schema: resourceRouteSchema({
        operationId: "getExperimentMetrics",
        summary: "Per-epoch metrics of each run as columnar series",
        tags: ["experiments"],
        querystring: ZMetricsQuery,
        response: {
          200: ZMetricsResponse.describe("one entry per run, one array element per epoch"),
        },
      }),
    },
    async (request, reply) => {
      const { id } = request.params;
      await assertExperimentVisible({ db: app.db, tenantId: request.auth!.tenantId, id });
      // Streamed run batch by run batch (a big sweep's metrics are never buffered whole); the
      // body is the documented ZMetricsResponse, which the route's tests parse.
      const body = Readable.from(
        streamExperimentMetrics({
          db: app.db,
          experimentId: id,
          runIds: request.query.runs,
          cell: request.query.cell,
          fields: new Set(request.query.fields?.length ? request.query.fields : METRIC_FIELDS),
          afterEpoch: request.query.afterEpoch,
        }),
      );
      // The typed reply expects the body object; the stream's text is exactly that object's JSON.
      return reply.type("application/json; charset=utf-8").send(body as unknown as TMetricsResponse);
    },
  );

  app.get(
    "/experiments/:id/events",
    {
      config: { allowQueryToken: true },
      schema: {
        operationId: "streamExperimentEvents",
        summary:
          "Server-Sent Events: run.started, run.epoch, run.finished, run.failed, run.canceled, experiment.finished",
        description:
          "Replays stored events after `Last-Event-ID` (or from the start), then streams live ones with a " +
          "heartbeat comment every 15 s; ends after `experiment.finished`. Browsers' EventSource cannot send " +
          "headers, so this route also accepts the key as `?access_token=`.",
        tags: ["experiments"],
        security: [{ bearerAuth: [] }, { accessToken: [] }],
        params: ZIdParams,
        querystring: z.object({ access_token: z.string().optional() }),
        headers: z.looseObject({ "last-event-id": z.string().max(40).optional() }),
        response: {
          200: withMediaType(
            z.string(),
            "text/event-stream",
            "the event stream (`event:`, `id:`, `data:` JSON)",
          ),
          ...problemResponses(...COMMON_ERRORS, 404),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await assertExperimentVisible({ db: app.db, tenantId: request.auth!.tenantId, id });
      reply.hijack();
      await streamEvents(reply.raw, {
        db: app.db,
        hub: app.hub,
        channels: app.channels,
        experimentId: id,
        lastEventId: parseLastEventId(request.headers["last-event-id"]),
        heartbeatMs: app.config.SSE_HEARTBEAT_MS,
        open: app.sseStreams,
      });
    },
  );

  app.post(
    "/experiments/:id/cancel",
    {
      schema: resourceRouteSchema({
        operationId: "cancelExperiment",
        summary: "Cancel: queued runs leave the queue, running ones stop at the next batch (idempotent)",
        tags: ["experiments"],
        response: {
          202: ZExperiment.describe("the experiment as it is once the cancel is recorded"),
        },
      }),
    },
    async (request, reply) => {
      const tenantId = request.auth!.tenantId;
      const { id } = request.params;
      await assertExperimentVisible({ db: app.db, tenantId, id });
      await cancelExperiment(lifecycleDeps(request.log), id);
      const staleAfterMs = app.config.RUN_STALE_AFTER_MS;
      return reply.code(202).send(await getExperiment({ db: app.db, tenantId, id, staleAfterMs }));
    },
  );

  app.delete(
    "/experiments/:id",
    {
      schema: resourceRouteSchema({
        operationId: "deleteExperiment",
        summary: "Delete an experiment with its runs, metrics, models and events (stops what is running)",
        tags: ["experiments"],
        response: { 204: z.null().describe("deleted") },
      }),
    },
    async (request, reply) => {
      const { id } = request.params;
      await assertExperimentVisible({ db: app.db, tenantId: request.auth!.tenantId, id });
      await deleteExperiment(lifecycleDeps(request.log), id);
      return reply.code(204).send(null);
    },
  );
};

export default experiments;
