import { type TProblem, ZProblem } from "@actlab/contracts";

/** A failed API call: the HTTP status and, when the API sent one, its RFC 9457 problem. */
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

function describeProblem(p: TProblem): string {
  return p.detail ? `${p.title}: ${p.detail}` : p.title;
}

export interface ApiOptions {
  method?: "GET" | "POST" | "DELETE";
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Calls the actlab API with the user's key and returns the parsed JSON body. */
export async function apiFetch(apiKey: string, path: string, opts: ApiOptions = {}): Promise<unknown> {
  const text = await apiText(apiKey, path, opts);
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Calls the actlab API with the user's key and returns the body as text (a CSV download); errors as apiFetch. */
export async function apiText(apiKey: string, path: string, opts: ApiOptions = {}): Promise<string> {
  const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
  if (apiKey) headers["authorization"] = `Bearer ${apiKey}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method: opts.method ?? "GET", headers, body, signal: opts.signal ?? null });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, null, "Cannot reach the actlab API — is it running?");
  }
  const text = await res.text();
  if (!res.ok) {
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    const problem = ZProblem.safeParse(json);
    throw new ApiError(
      res.status,
      problem.success ? problem.data : null,
      `${res.status} ${res.statusText || "error"} from ${path}`,
    );
  }
  return text;
}

/**
 * Reads a response with its schema from `@actlab/contracts` (the one the API's route answers
 * with), strictly: a body of another shape is an error that says so, never a guess.
 */
export function parseWith<T>(
  schema: {
    safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } };
  },
  value: unknown,
  what: string,
): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`Unexpected ${what} from the API: ${r.error.message.slice(0, 300)}`);
  return r.data;
}
