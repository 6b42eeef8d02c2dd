import { type TProblem, ZProblem } from "@actlab/contracts";

/** A failed API call: the HTTP status and, when the API sent one, its RFC 9457 problem. Status 0: no answer at all. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: TProblem | null;

  constructor(status: number, problem: TProblem | null, fallback: string) {
    super(problem ? describeProblem(problem) : fallback);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  /** Validation messages keyed by dotted path (`training.epochs`), as the API reports them. */
  fieldErrors(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const e of this.problem?.errors ?? []) {
      out[e.path] = [...(out[e.path] ?? []), e.message];
    }
    return out;
  }
}

export function describeProblem(p: TProblem): string {
  return p.detail ? `${p.title}: ${p.detail}` : p.title;
}

/** The ApiError for a non-2xx answer whose body (already read) is `body`. */
export function apiErrorFrom(response: Response, body: unknown, what: string): ApiError {
  const problem = ZProblem.safeParse(body);
  return new ApiError(
    response.status,
    problem.success ? problem.data : null,
    `${response.status} ${response.statusText || "error"} from ${what}`,
  );
}

/** A schema from `@actlab/contracts` (structurally, so this package needs no zod of its own). */
export interface Schema<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

/**
 * Reads a response with its schema from `@actlab/contracts` (the one the API's route answers
 * with), strictly: a body of another shape is an error that says so, never a guess.
 */
export function parseWith<T>(schema: Schema<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`Unexpected ${what} from the API: ${r.error.message.slice(0, 300)}`);
  return r.data;
}
