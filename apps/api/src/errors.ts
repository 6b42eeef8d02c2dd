import type { TProblem } from "@actlab/contracts";

/**
 * The problem types the API answers with (RFC 9457 `type`, relative URI references). Each
 * names one documented failure a client can act on; the table lives in one place so status
 * codes and titles stay consistent across routes.
 */
export const PROBLEMS = {
  validation: { status: 400, title: "Request validation failed" },
  malformedJson: { status: 400, title: "Malformed JSON body" },
  badRequest: { status: 400, title: "Bad request" },
  unauthorized: { status: 401, title: "Missing or invalid API key" },
  notFound: { status: 404, title: "Not found" },
  methodNotAllowed: { status: 405, title: "Method not allowed" },
  idempotencyConflict: { status: 409, title: "Idempotency-Key reused with a different body" },
  conflict: { status: 409, title: "Conflict" },
  payloadTooLarge: { status: 413, title: "Request body too large" },
  unsupportedMediaType: { status: 415, title: "Unsupported media type" },
  activeRunsLimit: { status: 429, title: "Too many active runs" },
  rateLimited: { status: 429, title: "Rate limit exceeded" },
  tooManyAuthFailures: { status: 429, title: "Too many failed authentications" },
  internal: { status: 500, title: "Internal server error" },
  unavailable: { status: 503, title: "Service temporarily unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;
export type ProblemKind = keyof typeof PROBLEMS;

export function problemType(kind: ProblemKind): string {
  return `/problems/${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export interface FieldError {
  path: string;
  message: string;
}

/** An error a handler throws on purpose; the error handler turns it into problem+json. */
export class AppError extends Error {
  override name = "AppError";
  readonly kind: ProblemKind;
  readonly statusCode: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    kind: ProblemKind,
    detail?: string,
    { errors, headers = {} }: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? PROBLEMS[kind].title);
    this.kind = kind;
    this.statusCode = PROBLEMS[kind].status;
    this.errors = errors;
    this.headers = headers;
  }
}

export function buildProblem(
  kind: ProblemKind,
  {
    detail,
    instance,
    errors,
    status,
  }: { detail?: string; instance?: string; errors?: FieldError[]; status?: number },
): TProblem {
  const p: TProblem = {
    type: problemType(kind),
    title: PROBLEMS[kind].title,
    status: status ?? PROBLEMS[kind].status,
  };
  if (detail) p.detail = detail;
  if (instance) p.instance = instance;
  if (errors) p.errors = errors;
  return p;
}

export const notFound = (what: string, id: string) => new AppError("notFound", `${what} ${id} not found`);
