import { ZReport } from "@actlab/contracts";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { notFound } from "../../errors.js";
import { assertExperimentVisible } from "../../services/experiment-read.js";
import { buildReport } from "../../services/reports/build.js";
import { loadReportInput } from "../../services/reports/load.js";
import { renderReportMarkdown } from "../../services/reports/markdown.js";
import { resourceRouteSchema, withMediaType } from "../schemas.js";

/** Markdown when the client asks for it (Accept: text/markdown, or ?format=markdown from a browser). */
function wantsMarkdown(accept: string | undefined, format: string | undefined): boolean {
  if (format) return format === "markdown";
  return /\btext\/markdown\b/i.test(accept ?? "");
}

const reports: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/experiments/:id/report",
    {
      schema: resourceRouteSchema({
        operationId: "getExperimentReport",
        summary: "The chapter-style comparison of an experiment's variants (JSON, or Markdown)",
        description:
          "Per variant: mean ± std test accuracy over repeats beside the textbook chapter's figure, epochs to " +
          "reach 90%, training time, first/last-layer gradient-norm ratio, dead-unit fraction and a verdict; " +
          "whether the two best variants differ by more than their spread. Send `Accept: text/markdown` " +
          "(or `?format=markdown`) for Markdown. Works while the experiment runs (finished runs only).",
        tags: ["experiments"],
        querystring: z.object({ format: z.enum(["json", "markdown"]).optional() }),
        response: {
          200: z
            .union([
              withMediaType(ZReport, "application/json", "the report"),
              withMediaType(z.string(), "text/markdown", "the report as Markdown"),
            ])
            .describe("the report, as JSON or (when asked for) Markdown"),
        },
      }),
    },
    async (request, reply) => {
      const { id } = request.params;
      const tenantId = request.auth!.tenantId;
      await assertExperimentVisible({ db: app.db, tenantId, id });
      const input = await loadReportInput(app.db, { id, tenantId });
      if (!input) throw notFound("experiment", id);
      const report = buildReport(input);
      reply.header("vary", "accept");
      if (wantsMarkdown(request.headers.accept, request.query.format)) {
        // A string with a non-JSON content type is sent as is (no response serialization).
        return reply.type("text/markdown; charset=utf-8").send(renderReportMarkdown(report));
      }
      return report;
    },
  );
};

export default reports;
