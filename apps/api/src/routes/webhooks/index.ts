import { ZCreatedWebhook, ZCreateWebhookBody, ZWebhookDeliveryList, ZWebhookList } from "@actlab/contracts";
import { deleteWebhook, listWebhooks } from "@actlab/db";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { notFound } from "../../errors.js";
import { isUuid } from "../../services/uuid.js";
import { createWebhook, webhookDeliveries, webhookList } from "../../services/webhooks.js";
import { BEARER, COMMON_ERRORS, problemResponses, resourceRouteSchema } from "../schemas.js";

const ZDeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50).describe("newest deliveries to return"),
});

/** The tenant's webhooks (Standard Webhooks deliveries of experiment.finished and run.failed). */
const webhooks: FastifyPluginAsyncZod = async (app) => {
  app.post(
    "/webhooks",
    {
      schema: {
        operationId: "createWebhook",
        summary:
          "Register a URL for experiment.finished / run.failed; the answer shows its signing secret once",
        tags: ["webhooks"],
        security: BEARER,
        body: ZCreateWebhookBody,
        response: { 201: ZCreatedWebhook, ...problemResponses(...COMMON_ERRORS, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const created = await createWebhook({
        db: app.db,
        tenantId: request.auth!.tenantId,
        body: request.body,
        policy: app.config.WEBHOOK_ALLOWED_HOSTS,
      });
      return reply.code(201).header("location", `/v1/webhooks/${created.id}`).send(created);
    },
  );

  app.get(
    "/webhooks",
    {
      schema: {
        operationId: "listWebhooks",
        summary: "The tenant's webhooks (without secrets)",
        tags: ["webhooks"],
        security: BEARER,
        response: { 200: ZWebhookList, ...problemResponses(...COMMON_ERRORS) },
      },
    },
    async (request) => webhookList(await listWebhooks(app.db, request.auth!.tenantId)),
  );

  app.delete(
    "/webhooks/:id",
    {
      schema: resourceRouteSchema({
        operationId: "deleteWebhook",
        summary: "Remove a webhook with its delivery log (pending deliveries are dropped)",
        tags: ["webhooks"],
        response: { 204: z.null().describe("deleted") },
      }),
    },
    async (request, reply) => {
      const { id } = request.params;
      const deleted =
        isUuid(id) && (await deleteWebhook(app.db, { tenantId: request.auth!.tenantId, webhookId: id }));
      if (!deleted) throw notFound("webhook", id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/webhooks/:id/deliveries",
    {
      schema: resourceRouteSchema({
        operationId: "listWebhookDeliveries",
        summary: "The delivery log: each message, its status and every attempt, newest first",
        tags: ["webhooks"],
        querystring: ZDeliveriesQuery,
        response: { 200: ZWebhookDeliveryList },
      }),
    },
    async (request) =>
      webhookDeliveries({
        db: app.db,
        tenantId: request.auth!.tenantId,
        webhookId: request.params.id,
        limit: request.query.limit,
      }),
  );
};

export default webhooks;
