import createClient, { type Client, type Middleware } from "openapi-fetch";
import { ApiError, apiErrorFrom, parseWith, type Schema } from "./errors.js";
import type { paths } from "./generated/openapi.js";

export { ApiError, apiErrorFrom, describeProblem, parseWith, type Schema } from "./errors.js";
export type { components, operations, paths } from "./generated/openapi.js";

export type ActlabClient = Client<paths>;

export interface ClientOptions {
  /** Where the API is: `http://127.0.0.1:3000`, or "" in a browser page the API serves. */
  baseUrl: string;
  /** The API key; a function is asked on every request (a browser session can change it). */
  apiKey?: string | (() => string | null | undefined);
  fetch?: typeof globalThis.fetch;
}

/**
 * A typed client (openapi-fetch over the types openapi-typescript generated from the served
 * document) that sends `Authorization: Bearer <key>` on every request.
 */
export function createActlabClient({ baseUrl, apiKey, fetch }: ClientOptions): ActlabClient {
  const client = createClient<paths>({ baseUrl, ...(fetch ? { fetch } : {}) });
  const auth: Middleware = {
    onRequest({ request }) {
      const key = typeof apiKey === "function" ? apiKey() : apiKey;
      if (key) request.headers.set("authorization", `Bearer ${key}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}

type Result<D> = { data?: D; error?: unknown; response: Response };

/**
 * Awaits one openapi-fetch call and returns its body parsed with the contracts' schema; a non-2xx
 * answer throws ApiError with the problem details, no answer at all throws ApiError with status 0.
 */
export async function expectOk<D, T>(call: Promise<Result<D>>, schema: Schema<T>, what: string): Promise<T> {
  return parseWith(schema, await expectBody(call, what), what);
}

/** Like expectOk for bodies that are not JSON (Markdown, CSV) or not checked (204). */
export async function expectBody<D>(call: Promise<Result<D>>, what: string): Promise<D | undefined> {
  let result: Result<D>;
  try {
    result = await call;
  } catch (err) {
    if (err instanceof Error && err.name === "AbortError") throw err;
    throw new ApiError(0, null, `cannot reach the actlab API (${(err as Error).message})`);
  }
  if (!result.response.ok) throw apiErrorFrom(result.response, result.error, what);
  return result.data;
}
