import {
  fileSlug,
  MAX_COMPARED_EXPERIMENTS,
  ZCompareResponse,
  ZContinueBody,
  ZContinueResponse,
} from "@actlab/contracts";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { compareExperiments } from "../../services/compare.js";
import { continueRuns } from "../../services/experiment-continue.js";
import { assertExperimentVisible, getExperiment } from "../../services/experiment-read.js";
import { metricsCsvStream } from "../../services/metrics-csv.js";
import {
  BEARER,
  COMMON_ERRORS,
  commaList,
  dtoSerializer,
  problemResponses,
  resourceRouteSchema,
  withMediaType,
} from "../schemas.js";

/** Working with finished results (docs/results.md): compare experiments, export metrics, continue training. */

const ZCompareQuery = z.object({
  experiments: commaList(z.string().max(100))
    .pipe(
      z
        .array(z.string())
        .transform((ids) => [...new Set(ids)])
        .pipe(z.array(z.string()).min(2, "name at least two experiments").max(MAX_COMPARED_EXPERIMENTS)),
    )
    .describe(`comma-separated experiment ids (2 to ${MAX_COMPARED_EXPERIMENTS})`),
});

const results: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/compare",
    {
      schema: {
        operationId: "compareExperiments",
        summary:
          "Compare experiments: the spec fields that differ, and their variants' summaries side by side",
        description:
          "Variants (and sweep cells) are lined up by label; `summaries[i]` belongs to the i-th experiment " +
          "asked for and is null where that experiment has no such variant.",
        tags: ["experiments"],
        security: BEARER,
        querystring: ZCompareQuery,
        response: { 200: ZCompareResponse, ...problemResponses(...COMMON_ERRORS, 404) },
      },
    },
    async (request) =>
      compareExperiments({ db: app.db, tenantId: request.auth!.tenantId, ids: request.query.experiments }),
  );

  app.get(
    "/experiments/:id/metrics.csv",
    {
      schema: resourceRouteSchema({
        operationId: "exportExperimentMetrics",
        summary: "Every stored epoch of every run as CSV (long format, streamed)",
        description:
          "RFC 4180, one row per run × epoch, columns in the documented order (docs/results.md): " +
          "experimentId, runId, variant, activation, the variants' parameters, cell.<path> per swept path, repeat, seed, status, epoch, " +
          "trainLoss, trainAccuracy, testLoss, testAccuracy, seconds, gradNorm_1…, deadFraction_1…, " +
          "saturatedFraction_1…, preluAlphaMean_1… (layers numbered from the input side).",
        tags: ["experiments"],
        // z.unknown(): the body is a stream, which Fastify pipes without serializing.
        response: {
          200: withMediaType(z.unknown(), "text/csv", "one row per run × epoch, with a header row"),
        },
      }),
    },
    async (request, reply) => {
      const { id } = request.params;
      const experiment = await getExperiment({ db: app.db, tenantId: request.auth!.tenantId, id });
      return reply
        .type("text/csv; charset=utf-8; header=present")
        .header(
          "content-disposition",
          `attachment; filename="${fileSlug(experiment.name, "experiment")}-metrics.csv"`,
        )
        .send(metricsCsvStream({ db: app.db, experimentId: id, spec: experiment.spec, log: request.log }));
    },
  );

  app.post(
    "/experiments/:id/continue",
    {
      serializerCompiler: dtoSerializer,
      schema: resourceRouteSchema(
        {
          operationId: "continueExperiment",
          summary: "Continue a finished experiment to more epochs, each run from its last checkpoint",
          description:
            "The runs that succeeded (all of them, or in a partial or canceled experiment those that finished) " +
            "are queued again to `epochs`, resuming where they stopped (each epoch is stored once), and the " +
            "spec's `training.epochs` becomes `epochs`; `notContinued` lists each other run and why (failed, " +
            "canceled, no checkpoint). The same `epochs` again changes nothing. 409 when no run can continue, " +
            "listing each and why.",
          tags: ["experiments"],
          body: ZContinueBody,
          response: { 202: ZContinueResponse },
        },
        409,
        415,
      ),
    },
    async (request, reply) => {
      const tenantId = request.auth!.tenantId;
      const { id } = request.params;
      await assertExperimentVisible({ db: app.db, tenantId, id });
      const { notContinued } = await continueRuns({
        db: app.db,
        producer: app.producer,
        log: request.log,
        tenantId,
        id,
        epochs: request.body.epochs,
      });
      return reply.code(202).send({ ...(await getExperiment({ db: app.db, tenantId, id })), notContinued });
    },
  );
};

export default results;
