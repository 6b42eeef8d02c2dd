import { ZModelJson, ZPredictBody, ZPrediction, ZRun } from "@actlab/contracts";
import { type Db, findModelArtifactOfTenant, findRunOfTenant } from "@actlab/db";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { notFound } from "../../errors.js";
import { toRunDto } from "../../services/experiment-view.js";
import { flattenInput, modelJson, predictWithRun, WEIGHTS_FILE } from "../../services/models.js";
import { isUuid } from "../../services/uuid.js";
import { resourceRouteSchema, withMediaType } from "../schemas.js";

async function findRun(db: Db, tenantId: string, id: string) {
  if (!isUuid(id)) throw notFound("run", id);
  const run = await findRunOfTenant(db, { runId: id, tenantId });
  if (!run) throw notFound("run", id);
  return run;
}

async function findArtifact(db: Db, tenantId: string, id: string) {
  if (!isUuid(id)) throw notFound("run", id);
  const artifact = await findModelArtifactOfTenant(db, { runId: id, tenantId });
  if (!artifact) throw notFound("model of run", id);
  return artifact;
}

/**
 * LIMITS.maxPredictBatch images of 784 full-precision floats take ~4 MB of JSON, more than the
 * general body limit, so this route alone accepts up to 8 MiB (still a documented 413 beyond).
 */
export const PREDICT_BODY_LIMIT = 8 * 1024 * 1024;

const runs: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/runs/:id",
    {
      schema: resourceRouteSchema({
        operationId: "getRun",
        summary: "One run: status, progress, attempts, final metrics",
        tags: ["runs"],
        response: {
          200: ZRun.describe("the run"),
        },
      }),
    },
    async (request) =>
      toRunDto(await findRun(app.db, request.auth!.tenantId, request.params.id), {
        staleAfterMs: app.config.RUN_STALE_AFTER_MS,
        now: Date.now(),
      }),
  );

  app.get(
    "/runs/:id/model/model.json",
    {
      schema: resourceRouteSchema({
        operationId: "getRunModel",
        summary: "The trained model (TensorFlow.js layers format) for tf.loadLayersModel",
        tags: ["runs"],
        response: {
          200: ZModelJson.describe("model topology and the weights manifest"),
        },
      }),
    },
    async (request, reply) => {
      const a = await findArtifact(app.db, request.auth!.tenantId, request.params.id);
      reply.header("etag", `"${a.sha256}"`);
      return modelJson(a);
    },
  );

  app.get(
    `/runs/:id/model/${WEIGHTS_FILE}`,
    {
      schema: resourceRouteSchema({
        operationId: "getRunWeights",
        summary: "The weights file model.json names (binary, little-endian float32)",
        tags: ["runs"],
        response: {
          200: withMediaType(z.any(), "application/octet-stream", "the weights bytes"),
        },
      }),
    },
    async (request, reply) => {
      const a = await findArtifact(app.db, request.auth!.tenantId, request.params.id);
      return reply
        .type("application/octet-stream")
        .header("etag", `"${a.sha256}"`)
        .header("content-length", a.weights.byteLength)
        .send(Buffer.from(a.weights.buffer, a.weights.byteOffset, a.weights.byteLength));
    },
  );

  app.post(
    "/runs/:id/predict",
    {
      bodyLimit: PREDICT_BODY_LIMIT,
      schema: resourceRouteSchema(
        {
          operationId: "predictRun",
          summary: "Class probabilities and argmax for one or many images",
          tags: ["runs"],
          body: ZPredictBody,
          response: {
            200: ZPrediction.describe("class probabilities and the predicted class of each input"),
          },
        },
        409,
        413,
        415,
      ),
    },
    async (request) => {
      const tenantId = request.auth!.tenantId;
      const run = await findRun(app.db, tenantId, request.params.id);
      const trainedScale = (run.spec as { dataset?: { pixelScale?: string } })?.dataset?.pixelScale ?? "unit";
      const given = request.body.pixelScale ?? trainedScale;
      const factor = given === trainedScale ? 1 : given === "raw" ? 1 / 255 : 255;
      const inputs = request.body.inputs.map((x) => {
        const flat = flattenInput(x, 784);
        return factor === 1 ? flat : flat.map((v) => v * factor);
      });
      const result = await predictWithRun({ db: app.db, cache: app.models, runId: run.id, inputs });
      return { runId: run.id, ...result };
    },
  );
};

export default runs;
