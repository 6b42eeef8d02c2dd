import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from "fastify";
import fp from "fastify-plugin";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AppError, buildProblem, type FieldError, type ProblemKind } from "../../errors.js";
import { SECURITY_HEADERS } from "./security-headers.js";

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "P1001",
  "P1002",
  "P1017",
  "P2024",
]);
const UNAVAILABLE_MESSAGES = [
  /enableOfflineQueue/i,
  /Connection is closed/i,
  /timeout exceeded when trying to connect/i,
  // node-postgres' query_timeout: Postgres took longer than the API waits (overloaded or hanging).
  /Query read timeout/i,
  /Connection terminated/i,
  /Reached the max retries per request/i,
  /Can't reach database server/i,
  /ECONNREFUSED/,
  /DatabaseNotReachable/i,
];

/** Whether an error means Postgres or Redis is unreachable (→ 503, try again), not a bug. */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown; kind?: unknown };
  if (typeof e.code === "string" && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.name === "PrismaClientInitializationError" || e.name === "MaxRetriesPerRequestError") return true;
  if (typeof e.message === "string" && UNAVAILABLE_MESSAGES.some((re) => re.test(e.message as string)))
    return true;
  if (Array.isArray((err as { errors?: unknown }).errors)) {
    if ((err as { errors: unknown[] }).errors.some((x) => isUnavailable(x, depth + 1))) return true;
  }
  return isUnavailable(e.cause, depth + 1);
}

/** `/training/epochs` → `training.epochs`; an empty path is the body itself. */
function dottedPath(instancePath: string, part: string | undefined): string {
  const path = instancePath.replace(/^\//, "").split("/").filter(Boolean).join(".");
  if (part === "querystring" || part === "params" || part === "headers") return path || part;
  return path || "(body)";
}

const FASTIFY_CODES: Record<string, ProblemKind> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payloadTooLarge",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupportedMediaType",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "badRequest",
  FST_ERR_CTP_EMPTY_JSON_BODY: "malformedJson",
  FST_ERR_CTP_INVALID_JSON_BODY: "malformedJson",
  FST_ERR_VALIDATION: "validation",
};

function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  kind: ProblemKind,
  opts: { detail?: string; errors?: FieldError[]; status?: number; headers?: Record<string, string> },
) {
  const problem = buildProblem(kind, { ...opts, instance: request.url.split("?")[0] });
  if (opts.headers) reply.headers(opts.headers);
  return reply.code(problem.status).type("application/problem+json").send(problem);
}

/**
 * One place where every failure becomes RFC 9457 problem+json. Client mistakes keep their
 * message (they are ours or Fastify's, never a driver's); anything else is a 500 or, for a
 * Postgres/Redis outage, a 503 — with no internals in the body.
 */
async function problems(app: FastifyInstance) {
  // Empty JSON bodies count as no body (POST /cancel with a Content-Type header but nothing in it).
  const parseJson = app.getDefaultJsonParser("error", "error");
  // A JSON API: text/plain bodies are a 415, not a string for the validator to puzzle over.
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (typeof body === "string" && body.trim() === "") return done(null, undefined);
    parseJson(request, body as string, done);
  });

  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      const opts: { detail: string; errors?: FieldError[]; headers: Record<string, string> } = {
        detail: error.message,
        headers: error.headers,
      };
      if (error.errors) opts.errors = error.errors;
      return sendProblem(reply, request, error.kind, opts);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const part = (error as { validationContext?: string }).validationContext;
      const errors = error.validation.map((v) => ({
        path: dottedPath(v.instancePath, part),
        message: v.message ?? "invalid",
      }));
      return sendProblem(reply, request, "validation", {
        detail: `${errors.length} invalid field${errors.length === 1 ? "" : "s"} in the ${part ?? "request"}`,
        errors,
      });
    }
    const fe = error as FastifyError;
    const status = fe.statusCode ?? 500;
    const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (known || error instanceof SyntaxError) {
      const kind = known ?? "malformedJson";
      return sendProblem(reply, request, kind, { detail: fe.message });
    }
    if (status === 429) {
      return sendProblem(reply, request, "rateLimited", { detail: fe.message });
    }
    if (status >= 400 && status < 500) {
      return sendProblem(reply, request, status === 404 ? "notFound" : "badRequest", {
        detail: fe.message,
        status,
      });
    }
    if (isUnavailable(error)) {
      request.log.warn({ err: error }, "dependency unavailable");
      return sendProblem(reply, request, "unavailable", {
        detail: "the database or queue is not reachable right now; try again shortly",
        headers: { "retry-after": "5" },
      });
    }
    request.log.error({ err: error }, "unhandled error");
    return sendProblem(reply, request, "internal", {
      detail: "an unexpected error occurred; it has been logged",
    });
  });

  app.setNotFoundHandler((request, reply) => {
    return sendProblem(reply, request, "notFound", {
      detail: `no route ${request.method} ${request.url.split("?")[0]}`,
    });
  });
}

export default fp(problems, { name: "actlab-problems" });

/**
 * Fastify answers a path that is not valid percent-encoding (FST_ERR_BAD_URL) or has a parameter
 * over maxParamLength (FST_ERR_MAX_PARAM_LENGTH) before routing, so neither the error handler
 * nor any hook sees them; by default that is a plain JSON body echoing the URL. Given to Fastify
 * as its `frameworkErrors` option (found by the reliability fuzz, tests/reliability): they become
 * problem+json with the security headers, like every other answer.
 */
function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const tooLong = error.code === "FST_ERR_MAX_PARAM_LENGTH";
  const problem = buildProblem("badRequest", {
    status: tooLong ? 414 : 400,
    detail: tooLong
      ? "a path parameter is too long (ids are UUIDs)"
      : "the URL path is not valid percent-encoding",
  });
  void reply.code(problem.status).headers(SECURITY_HEADERS).type("application/problem+json").send(problem);
}
export const frameworkErrors = answerFrameworkError as FastifyServerOptions["frameworkErrors"];
