import { ZProblem } from "@actlab/contracts";
import type { FastifySerializerCompiler } from "fastify";
import { z } from "zod";
import { buildProblem, PROBLEMS, type ProblemKind } from "../errors.js";

/** The first problem type of the table with this status: what the docs show as its example. */
function exampleProblem(status: number) {
  const kind = (Object.keys(PROBLEMS) as ProblemKind[]).find((k) => PROBLEMS[k].status === status);
  return kind
    ? buildProblem(kind, { detail: PROBLEMS[kind].title })
    : { type: "about:blank", title: "Error", status };
}

/** Every error response, in the OpenAPI document (with an example of its own status) and on the wire. */
export const problemResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [c, ZProblem.describe("RFC 9457 problem details").meta({ example: exampleProblem(c) })]),
  );

/** Responses every authenticated route can give. */
export const COMMON_ERRORS = [400, 401, 429, 500, 503] as const;

export const ZIdParams = z.object({ id: z.string().min(1).max(100).describe("UUID") });

/** `a,b,c` → ["a","b","c"] (also accepts the parameter repeated). */
export const commaList = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      (Array.isArray(v) ? v : [v])
        .flatMap((s) => (typeof s === "string" ? s.split(",") : [s]))
        .map((s) => (typeof s === "string" ? s.trim() : s))
        .filter((s) => s !== ""),
    z.array(item),
  );

export const BEARER = [{ bearerAuth: [] }];

/**
 * For the two hottest routes (create, read one experiment), whose bodies are built field by field
 * by `toExperimentDto`: serialize without re-validating. The zod serializer parsed every
 * response against the schema first (~6% of a POST's CPU in the bench profile). What guards those
 * bodies instead: the DTO builder picks each field explicitly (nothing from a row leaks), and the
 * tests parse their responses with `ZExperiment`. The schemas still document them in OpenAPI.
 */
export const dtoSerializer: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);
