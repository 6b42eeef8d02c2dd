import { ZProblem } from "@actlab/contracts";
import type { FastifySerializerCompiler } from "fastify";
import { z } from "zod";
import { buildProblem, PROBLEMS, type ProblemKind } from "../errors.js";

/** What each error status means here, as the OpenAPI document tells it. */
const PROBLEM_MEANINGS: Record<number, string> = {
  400: "invalid request: each bad field is listed in `errors`",
  401: "no API key, or an unknown or revoked one",
  404: "no such resource for this tenant",
  409: "conflicts with the resource's state (or an Idempotency-Key reused with another body)",
  413: "request body too large",
  414: "a path parameter is too long",
  415: "unsupported Content-Type (send application/json)",
  429: "too many requests, or too many active runs (see Retry-After)",
  500: "unexpected error (details only in the server's logs)",
  503: "Postgres or Redis unavailable; retry",
};

/** The first problem type of the table with this status: what the docs show as its example. */
function exampleProblem(status: number) {
  const kind = (Object.keys(PROBLEMS) as ProblemKind[]).find((k) => PROBLEMS[k].status === status);
  return kind
    ? buildProblem(kind, { detail: PROBLEMS[kind].title })
    : { type: "about:blank", title: "Error", status };
}

/** Every error response, in the OpenAPI document (with an example of its own status) and on the wire: RFC 9457 problem details. */
export const problemResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      c,
      ZProblem.describe(PROBLEM_MEANINGS[c] ?? "RFC 9457 problem details").meta({
        example: exampleProblem(c),
      }),
    ]),
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
 * The schema of a tenant's route on one resource by id: bearer auth and `:id` (which `schema` may
 * not override), and beside its own responses the common problems, 404 (no such id for this
 * tenant) and the route's `moreProblems`.
 */
export function resourceRouteSchema<S extends { response: Record<number, z.ZodType> }>(
  schema: S,
  ...moreProblems: number[]
) {
  return {
    ...schema,
    security: BEARER,
    params: ZIdParams,
    response: { ...schema.response, ...problemResponses(...COMMON_ERRORS, 404, ...moreProblems) },
  };
}
/** Routes anyone may call (health, readiness, Prometheus), declared so rather than left unsaid. */
export const PUBLIC: [] = [];

/**
 * A response body that is not JSON: the OpenAPI transform (plugins/external/docs.ts) documents it
 * under this media type. In a union (JSON or Markdown), each member names its own.
 */
export const MEDIA_TYPE_KEY = "x-media-type";
export const withMediaType = <T extends z.ZodType>(schema: T, mediaType: string, description: string) =>
  schema.meta({ description, [MEDIA_TYPE_KEY]: mediaType });

/** Any path can answer 400/414 for a malformed URL (plugins/app/problems.ts' frameworkErrors). */
export const MALFORMED_URL = [400, 414] as const;

/**
 * For the two hottest routes (create, read one experiment), whose bodies are built field by field
 * by `toExperimentDto`: serialize without re-validating. The zod serializer parsed every
 * response against the schema first (~6% of a POST's CPU in the bench profile). What guards those
 * bodies instead: the DTO builder picks each field explicitly (nothing from a row leaks), and the
 * tests parse their responses with `ZExperiment`. The schemas still document them in OpenAPI.
 */
export const dtoSerializer: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);
