import http from "node:http";
import { ZProblem } from "@actlab/contracts";
import fc from "fast-check";
import type { Pool } from "pg";

/**
 * Property-based fuzzing of every endpoint over real HTTP (fast-check). Each case is one request
 * with a generated method, path parameter, query string, headers and body; the properties are:
 *  - no 5xx and no hang (an answer within the timeout),
 *  - every 4xx is RFC 9457 problem+json whose `status` matches and that leaks no stack trace,
 *  - a rejected request leaves the database exactly as it was (digest before == after).
 * Used by the fast in-process test (a few hundred cases, `npm test`) and by the full scenario
 * against the built API process (≥ 5,000 cases, `npm run test:reliability`).
 */

export interface FuzzTarget {
  baseUrl: string;
  /** A key of the tenant that owns `ids.experiment` and `ids.run`. */
  key: string;
  /** A key of another tenant. */
  otherKey: string;
  revokedKey: string;
  ids: {
    /** A finished experiment of `key`'s tenant (its events stream ends). */
    experiment: string;
    /** A run of that experiment with a trained model. */
    run: string;
    otherExperiment: string;
    otherRun: string;
  };
  /** A digest of every row a client could change (see DIGEST_SQL). */
  digest(): Promise<string>;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** What the generator meant to exercise, for the report. */
  kind: string;
}

export interface FuzzStats {
  cases: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  rejectedMutations: number;
  maxMs: number;
  p99Ms: number;
}

/** Everything a request could change; api_keys.lastUsedAt is left out (every request touches it). */
export const DIGEST_SQL = `
SELECT md5(concat_ws('|',
  (SELECT string_agg(md5(x::text), ',' ORDER BY x.id) FROM
     (SELECT id, "tenantId", name, spec, status, "idempotencyKey", "requestHash", "createdAt", "startedAt", "finishedAt", error FROM experiments) x),
  (SELECT string_agg(md5(r::text), ',' ORDER BY r.id) FROM runs r),
  (SELECT count(*) FROM epoch_metrics),
  (SELECT count(*) FROM checkpoints),
  (SELECT string_agg(md5(m."runId"::text || m.sha256), ',' ORDER BY m."runId") FROM model_artifacts m),
  (SELECT coalesce(max(id), 0) || ':' || count(*) FROM experiment_events),
  (SELECT string_agg(k.id::text || coalesce(k."revokedAt"::text, '-'), ',' ORDER BY k.id) FROM api_keys k),
  (SELECT string_agg(t.id::text || t.name, ',' ORDER BY t.id) FROM tenants t)
)) AS digest`;

/** A created experiment as POST /v1/experiments answers it (the part a target needs). */
interface Created {
  id: string;
  runs: Array<{ id: string }>;
}

/** The target on a running API: its URL and key, the other tenant's key and experiment, a revoked key. */
export function targetOf(
  api: { baseUrl: string; apiKey: string },
  {
    otherKey,
    revokedKey,
    mine,
    theirs,
    digest,
  }: { otherKey: string; revokedKey: string; mine: Created; theirs: Created; digest: () => Promise<string> },
): FuzzTarget {
  return {
    baseUrl: api.baseUrl,
    key: api.apiKey,
    otherKey,
    revokedKey,
    ids: {
      experiment: mine.id,
      run: mine.runs[0]!.id,
      otherExperiment: theirs.id,
      otherRun: theirs.runs[0]!.id,
    },
    digest,
  };
}

export const digestOf = (sql: Pool) => async () =>
  (await sql.query<{ digest: string }>(DIGEST_SQL)).rows[0]!.digest;

// ---------------------------------------------------------------------------------------------
// Values

const NASTY = [
  "",
  " ",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-Infinity",
  "-1",
  "0",
  "1e309",
  "-0",
  "0x10",
  "9".repeat(400),
  "' OR 1=1 --",
  "'; DROP TABLE runs; --",
  "\\x00",
  "\u0000",
  "../../etc/passwd",
  "..%2f..%2f",
  "%00",
  "%",
  "%zz",
  "__proto__",
  "constructor",
  "prototype",
  '{"$gt":""}',
  "*",
  "actlab:*",
  "\r\nX-Injected: 1",
  "<script>alert(1)</script>",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  "${7*7}",
  "🙂".repeat(200),
  "￿\uD800",
  "a".repeat(5_000),
  "Z̴̡̛͎a̸l̷g̶o̵",
  "مرحبا",
  "\u202Egnp.exe",
  "relu,relu,relu",
  "queued,running,nope",
  // List cursors are base64url JSON [createdAt, id]: well-formed ones with values Postgres rejects.
  ...[
    ["2020-01-01T00:00:00.000Z", "------------------------------------"],
    ["2020-01-01T00:00:00.000Z", "ffffffff-ffff-ffff-ffff-ffffffffffff"],
    ["-271821-04-20T00:00:00.000Z", "00000000-0000-4000-8000-000000000000"],
    ["+275760-09-13T00:00:00.000Z", "00000000-0000-4000-8000-000000000000"],
    ["1", "00000000-0000-4000-8000-000000000000"],
    ["2020-01-01", "00000000-0000-4000-8000-00000000000g"],
    [1, 2],
  ].map((c) => Buffer.from(JSON.stringify(c)).toString("base64url")),
];

const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 50 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 50 }) },
  { weight: 1, arbitrary: fc.uuid().map(String) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);

const hugeNumber = fc.constantFrom(
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 63,
  -(2 ** 63),
  2 ** 31,
  -(2 ** 31) - 1,
  5e-324,
  -0,
  1e21,
  0.1 + 0.2,
  1e-7,
);

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hugeNumber },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 2000 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { activation: "relu" }) },
);

/** JSON numbers that JSON.parse turns into ±Infinity, and bare NaN/Infinity (invalid JSON). */
const NON_FINITE_TOKENS = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1e400", "-0.0e-99999"];

// ---------------------------------------------------------------------------------------------
// Bodies

const SPEC_PATHS = [
  "name",
  "preset",
  "device",
  "dataset",
  "dataset.name",
  "dataset.samples",
  "dataset.testFraction",
  "dataset.pixelScale",
  "dataset.seed",
  "model",
  "model.hiddenLayers",
  "model.units",
  "model.initializer",
  "model.initializer.name",
  "model.initializer.stddev",
  "variants",
  "variants.0",
  "variants.0.activation",
  "variants.0.alpha",
  "variants.0.alphaInit",
  "variants.0.lower",
  "variants.0.upper",
  "variants.1",
  "training",
  "training.epochs",
  "training.batchSize",
  "training.seed",
  "training.repeats",
  "training.optimizer",
  "training.optimizer.name",
  "training.optimizer.learningRate",
  "extra",
  "__proto__",
  "constructor",
];

export function validSpec(name = "fuzz") {
  return {
    name,
    dataset: { name: "mnist", samples: 100, testFraction: 0.2, seed: 1 },
    model: { hiddenLayers: 1, units: 4 },
    variants: [{ activation: "relu" }],
    training: {
      epochs: 1,
      batchSize: 20,
      seed: 1,
      repeats: 1,
      optimizer: { name: "sgd", learningRate: 0.1 },
    },
    device: "cpu",
  };
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown, remove: boolean) {
  const parts = path.split(".");
  let cur: Record<string, unknown> = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (!next || typeof next !== "object") cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (remove) delete cur[last];
  else Object.defineProperty(cur, last, { value, enumerable: true, writable: true, configurable: true });
}

const mutatedSpec = fc
  .array(fc.tuple(fc.constantFrom(...SPEC_PATHS), anyJson, fc.nat(4)), { minLength: 1, maxLength: 4 })
  .map((mutations) => {
    const spec = validSpec("fuzz") as Record<string, unknown>;
    for (const [path, value, die] of mutations) setPath(spec, path, value, die === 0);
    return JSON.stringify(spec);
  });

const deepJson = fc
  .tuple(fc.constantFrom("array", "object", "variants"), fc.integer({ min: 100, max: 200_000 }))
  .map(([shape, depth]) => {
    if (shape === "array") return `${"[".repeat(depth)}${"]".repeat(depth)}`;
    if (shape === "object") return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    return `{"variants":${"[".repeat(depth)}{"activation":"relu"}${"]".repeat(depth)}}`;
  });

const oversized = fc
  .constantFrom(1_048_577, 1_500_000, 8_388_609, 9_000_000)
  .map((n) => JSON.stringify({ ...validSpec(), name: "x".repeat(n) }));

const malformed = fc.oneof(
  fc.integer({ min: 1, max: 200 }).map((cut) => JSON.stringify(validSpec()).slice(0, cut)),
  fc.constantFrom(
    "{",
    "}",
    "[",
    "nul",
    "{'a':1}",
    '{"variants":[{"activation":"relu"}],}',
    '\uFEFF{"variants":[{"activation":"relu"}]}',
    '{"__proto__":{"polluted":1},"variants":[{"activation":"relu"}]}',
    '{"constructor":{"prototype":{"polluted":1}},"variants":[{"activation":"relu"}]}',
    '{"variants":[{"activation":"relu"}],"variants":"dup"}',
    "NaN",
    '{"training":{"epochs":NaN}}',
    '{"training":{"epochs":1e999},"variants":[{"activation":"relu"}]}',
    '{"training":{"learningRate":Infinity}}',
    "\u0000",
    "true",
    "123",
    '"a string"',
  ),
  fc.string({ unit: "binary", maxLength: 200 }),
);

const experimentBody = fc.oneof(
  { weight: 6, arbitrary: mutatedSpec },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc
      .record({ preset: fc.oneof(fc.constantFrom("chapter8-keras", "nope"), nastyString), name: nastyString })
      .map((v) => JSON.stringify(v)),
  },
  { weight: 2, arbitrary: malformed },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: oversized },
);

/** A 784-value image as JSON text, with some values replaced by nasty numbers or tokens. */
const image = fc
  .tuple(
    fc.constantFrom(784, 784, 784, 783, 785, 0, 28, 1),
    fc.array(
      fc.tuple(
        fc.nat(783),
        fc.oneof(
          fc.constantFrom(...NON_FINITE_TOKENS),
          hugeNumber.map(String),
          fc.constantFrom('"0.5"', "null", "true", "[]", "{}", '"NaN"'),
        ),
      ),
      { maxLength: 3 },
    ),
    fc.boolean(),
  )
  .map(([length, replacements, rows]) => {
    const values = Array.from({ length }, (_, i) => String(((i * 37) % 101) / 100));
    for (const [i, token] of replacements) if (i < values.length) values[i] = token;
    if (rows && length === 784) {
      const grid = Array.from({ length: 28 }, (_, r) => `[${values.slice(r * 28, r * 28 + 28).join(",")}]`);
      return `[${grid.join(",")}]`;
    }
    return `[${values.join(",")}]`;
  });

const predictBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.array(image, { minLength: 0, maxLength: 3 }),
        fc.option(
          fc.oneof(
            fc.constantFrom('"unit"', '"raw"'),
            nastyString.map((s) => JSON.stringify(s)),
          ),
        ),
      )
      .map(([imgs, scale]) => `{"inputs":[${imgs.join(",")}]${scale ? `,"pixelScale":${scale}` : ""}}`),
  },
  {
    weight: 1,
    // Over LIMITS.maxPredictBatch (256) images, or over the 8 MiB predict body limit.
    arbitrary: fc.constantFrom(257, 3_000).map((n) => {
      const one = `[${Array.from({ length: 784 }, () => "0.123456789").join(",")}]`;
      return `{"inputs":[${Array.from({ length: n }, () => one).join(",")}]}`;
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: malformed },
  { weight: 1, arbitrary: deepJson },
);

// ---------------------------------------------------------------------------------------------
// Requests

const CONTENT_TYPES = [
  "application/json",
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/problem+json",
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/octet-stream",
  "application/xml",
  "a/b;;;==",
  "",
];

/** encodeURIComponent, with lone surrogates (which it rejects) replaced. */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, "\uFFFD"));
  }
}

/** Header values must be bytes a client can send: printable ASCII. */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, "").slice(0, 4_000);

function queryArb(keys: readonly string[]) {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant("") },
    {
      weight: 5,
      arbitrary: fc
        .array(
          fc.tuple(
            fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom(...keys) },
              { weight: 1, arbitrary: nastyString },
            ),
            fc.oneof(nastyString, hugeNumber.map(String), fc.integer({ min: -3, max: 3000 }).map(String)),
            fc.boolean(),
          ),
          { maxLength: 5 },
        )
        .map((pairs) =>
          pairs.length
            ? `?${pairs
                .map(([k, v, raw]) =>
                  raw && /^[\x21-\x7e]*$/.test(k + v) && !/[#?]/.test(k + v)
                    ? `${k}=${v}`
                    : `${enc(k)}=${enc(v)}`,
                )
                .join("&")}`
            : "",
        ),
    },
  );
}

const QUERY_KEYS = {
  list: ["status", "limit", "cursor"],
  metrics: ["runs", "fields", "afterEpoch"],
  events: ["access_token"],
  activations: ["activation", "from", "to", "points", "alpha", "alphaInit", "lower", "upper"],
  none: ["x"],
};

interface RouteDef {
  method: "GET" | "POST" | "DELETE";
  path: string;
  query: keyof typeof QUERY_KEYS;
  body?: "experiment" | "predict" | "cancel";
  /** Which ids may go in :id (DELETE never gets the target experiment, so it survives). */
  ids?: Array<keyof FuzzTarget["ids"]>;
}

export const ROUTES: RouteDef[] = [
  { method: "GET", path: "/healthz", query: "none" },
  { method: "GET", path: "/readyz", query: "none" },
  { method: "GET", path: "/metrics", query: "none" },
  { method: "GET", path: "/openapi.json", query: "none" },
  { method: "POST", path: "/v1/experiments", query: "none", body: "experiment" },
  { method: "GET", path: "/v1/experiments", query: "list" },
  {
    method: "GET",
    path: "/v1/experiments/:id",
    query: "none",
    ids: ["experiment", "otherExperiment", "run"],
  },
  {
    method: "GET",
    path: "/v1/experiments/:id/metrics",
    query: "metrics",
    ids: ["experiment", "otherExperiment"],
  },
  {
    method: "GET",
    path: "/v1/experiments/:id/events",
    query: "events",
    ids: ["experiment", "otherExperiment"],
  },
  {
    method: "POST",
    path: "/v1/experiments/:id/cancel",
    query: "none",
    body: "cancel",
    ids: ["otherExperiment", "run"],
  },
  { method: "DELETE", path: "/v1/experiments/:id", query: "none", ids: ["otherExperiment", "run"] },
  { method: "GET", path: "/v1/runs/:id", query: "none", ids: ["run", "otherRun", "experiment"] },
  { method: "GET", path: "/v1/runs/:id/model/model.json", query: "none", ids: ["run", "otherRun"] },
  { method: "GET", path: "/v1/runs/:id/model/weights.bin", query: "none", ids: ["run", "otherRun"] },
  { method: "POST", path: "/v1/runs/:id/predict", query: "none", body: "predict", ids: ["run", "otherRun"] },
  { method: "GET", path: "/v1/activations", query: "activations" },
  { method: "GET", path: "/v1/datasets", query: "none" },
  { method: "GET", path: "/v1/presets", query: "none" },
];

export function requestArb(t: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...ROUTES).chain((route) => {
    const idArb = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...(route.ids ?? ["experiment"])).map((k) => t.ids[k]) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...(route.ids ?? ["experiment"])).map((k) => t.ids[k].toUpperCase()),
      },
      { weight: 2, arbitrary: fc.uuid().map(String) },
      { weight: 3, arbitrary: nastyString.filter((s) => s.length > 0) },
      // RAW: these go into the path as they are (bad percent-encoding, traversal, a NUL, …).
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          ...[
            "%2F",
            "%2e%2e",
            "..",
            "%00",
            "a%2Fb",
            `${t.ids.run}%00`,
            "%zz",
            "%",
            "%E0%A4%A",
            "%C0%AF",
            "x".repeat(101),
          ].map((x) => `RAW:${x}`),
        ),
      },
    );
    const bodyArb: fc.Arbitrary<string | undefined> =
      route.body === "experiment"
        ? experimentBody
        : route.body === "predict"
          ? predictBody
          : route.body === "cancel"
            ? fc.option(fc.oneof(fc.constant("{}"), malformed), { nil: undefined })
            : fc.option(fc.oneof(fc.constant("{}"), malformed), { freq: 5, nil: undefined });
    const auth = fc.oneof(
      { weight: 12, arbitrary: fc.constant(`Bearer ${t.key}`) },
      { weight: 1, arbitrary: fc.constant(`Bearer ${t.otherKey}`) },
      { weight: 1, arbitrary: fc.constant(`Bearer ${t.revokedKey}`) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      {
        weight: 2,
        arbitrary: fc.oneof(
          nastyString.map((s) => `Bearer ${headerSafe(s)}`),
          nastyString.map(headerSafe),
          fc.constantFrom(
            `bearer ${t.key}`,
            `Bearer  ${t.key} `,
            `Basic ${t.key}`,
            `Bearer ${t.key}x`,
            `Bearer ${t.key.slice(0, 12)}`,
          ),
        ),
      },
    );
    const method = fc.oneof(
      { weight: 12, arbitrary: fc.constant(route.method) },
      { weight: 1, arbitrary: fc.constantFrom("PUT", "PATCH", "OPTIONS", "DELETE", "POST", "GET") },
    );
    return fc
      .record({
        id: idArb,
        rawId: fc.boolean(),
        query: queryArb(QUERY_KEYS[route.query]),
        body: bodyArb,
        contentType: fc.constantFrom(...CONTENT_TYPES),
        auth,
        method,
        idempotencyKey: fc.option(nastyString.map(headerSafe), { freq: 3 }),
        lastEventId: fc.option(nastyString.map(headerSafe), { freq: 3 }),
        extraHeader: fc.option(
          fc.tuple(
            fc.constantFrom(
              "x-request-id",
              "accept",
              "accept-encoding",
              "x-forwarded-for",
              "origin",
              "range",
            ),
            nastyString.map(headerSafe),
          ),
          { freq: 3 },
        ),
      })
      .map((r): FuzzRequest => {
        const id = r.id.startsWith("RAW:")
          ? r.id.slice(4)
          : r.rawId && /^[A-Za-z0-9._~-]+$/.test(r.id)
            ? r.id
            : enc(r.id);
        const path = route.path.replace(":id", id || "%20") + r.query;
        const headers: Record<string, string> = {};
        if (r.auth !== undefined) headers.authorization = r.auth;
        if (r.body !== undefined) headers["content-type"] = r.contentType;
        if (r.idempotencyKey !== null) headers["idempotency-key"] = r.idempotencyKey;
        if (r.lastEventId !== null) headers["last-event-id"] = r.lastEventId;
        if (r.extraHeader) headers[r.extraHeader[0]] = r.extraHeader[1];
        const method = r.method;
        const body = method === "GET" ? undefined : r.body;
        return { method, path, headers, body, kind: `${route.method} ${route.path}` };
      });
  });
}

function problemOk(status: number, contentType: string, text: string): string | null {
  if (!/^application\/problem\+json/.test(contentType)) return `content-type ${contentType}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "body is not JSON";
  }
  const p = ZProblem.safeParse(parsed);
  if (!p.success) return "body is not a problem document";
  if (p.data.status !== status) return `problem.status ${p.data.status} ≠ ${status}`;
  return null;
}

/**
 * Sends one request on a connection of its own (node:http, no keep-alive pool, so one request's
 * fate cannot leak into the next) and never throws: a network error or timeout is status 0.
 * An early answer (a 413 while the body is still being sent) is read even if the upload fails.
 */
export function send(
  baseUrl: string,
  r: FuzzRequest,
  timeoutMs: number,
): Promise<{ status: number; contentType: string; text: string; ms: number }> {
  const url = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (v: { status: number; contentType: string; text: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...v, ms: performance.now() - started });
    };
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        agent: false,
        headers: {
          ...r.headers,
          ...(r.body !== undefined ? { "content-length": Buffer.byteLength(r.body) } : {}),
        },
      });
    } catch (err) {
      finish({ status: -1, contentType: "", text: `client refused: ${(err as Error).message}` });
      return;
    }
    timer = setTimeout(() => {
      finish({ status: 0, contentType: "", text: `timeout after ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      const end = () =>
        finish({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          text: Buffer.concat(chunks).toString("utf8"),
        });
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", end);
      res.on("error", end);
      res.on("close", end);
      // An open event stream (a running experiment's SSE) never ends by itself: a second of it is enough.
      if (String(res.headers["content-type"] ?? "").startsWith("text/event-stream")) {
        setTimeout(() => {
          end();
          req.destroy();
        }, 1_000);
      }
    });
    req.on("error", (err) => {
      // Give an answer that is already on its way the chance to arrive first.
      setTimeout(() => finish({ status: 0, contentType: "", text: String(err) }), 200);
    });
    req.end(r.body);
  });
}

/** The request line and headers (Content-Length of the real body) without the body; reads the answer. */
function sendHeadersOnly(baseUrl: string, r: FuzzRequest, timeoutMs: number) {
  const url = new URL(baseUrl);
  const started = performance.now();
  return new Promise<{ status: number; contentType: string; text: string; ms: number }>((resolve) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: r.method,
      path: r.path,
      agent: false,
      headers: { ...r.headers, "content-length": Buffer.byteLength(r.body ?? "") },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({
        status: 0,
        contentType: "",
        text: "timeout (headers only)",
        ms: performance.now() - started,
      });
    }, timeoutMs);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          text: Buffer.concat(chunks).toString("utf8"),
          ms: performance.now() - started,
        });
      });
    });
    req.on("error", () => {});
    req.flushHeaders();
  });
}

export interface FuzzFailure {
  /** status + what was wrong + route, so one bug is counted once. */
  signature: string;
  count: number;
  example: string;
}

/**
 * Runs `numRuns` generated requests one after another and checks the properties after each.
 * Failures are collected (grouped by signature) rather than stopping at the first, so one run
 * shows every distinct problem; the caller asserts there are none.
 */
export async function fuzz(
  t: FuzzTarget,
  { numRuns, seed, timeoutMs = 10_000 }: { numRuns: number; seed?: number; timeoutMs?: number },
): Promise<FuzzStats & { failures: FuzzFailure[]; seed: number }> {
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const times: number[] = [];
  const failures = new Map<string, FuzzFailure>();
  let rejectedMutations = 0;
  let baseline = await t.digest();
  const fail = (signature: string, r: FuzzRequest, res: { status: number; text: string }) => {
    const f = failures.get(signature);
    if (f) f.count++;
    else
      failures.set(signature, {
        signature,
        count: 1,
        example: `${r.method} ${r.path.slice(0, 160)} headers=${JSON.stringify(r.headers).slice(0, 200)} body=${(r.body ?? "").slice(0, 160)} → ${res.status} ${res.text.slice(0, 200)}`,
      });
  };
  const usedSeed = seed ?? Date.now() % 2 ** 31;
  await fc.check(
    fc.asyncProperty(requestArb(t), async (r) => {
      let res = await send(t.baseUrl, r, timeoutMs);
      if (res.status === 0 && (r.body?.length ?? 0) > 1_000_000 && /EPIPE|ECONNRESET/.test(res.text)) {
        // The server answered 413 from Content-Length and closed while the client was still
        // uploading, so the client saw EPIPE before the answer. Ask again sending only the
        // headers (same Content-Length) to read what it answers.
        res = await sendHeadersOnly(t.baseUrl, r, timeoutMs);
      }
      if (res.status === -1) {
        byStatus["client-refused"] = (byStatus["client-refused"] ?? 0) + 1;
        return true;
      }
      times.push(res.ms);
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
      if (res.status === 0) fail(`no answer (${res.text.slice(0, 60)}) ${r.kind}`, r, res);
      else if (res.status >= 500) fail(`${res.status} ${r.kind}`, r, res);
      else if (/\n\s+at |node_modules|PrismaClient|ioredis/.test(res.text))
        fail(`internals leaked (${res.status}) ${r.kind}`, r, res);
      else if (res.status >= 400) {
        const bad = problemOk(res.status, res.contentType, res.text);
        if (bad) fail(`${res.status} not problem+json (${bad.slice(0, 40)})`, r, res);
      }
      const after = await t.digest();
      if (res.status >= 400) {
        if (r.method !== "GET") rejectedMutations++;
        if (after !== baseline) fail(`rejected ${res.status} changed the database ${r.kind}`, r, res);
      }
      baseline = after;
      return true;
    }),
    { numRuns, seed: usedSeed },
  );
  const sorted = [...times].sort((a, b) => a - b);
  return {
    cases: times.length,
    byStatus,
    byKind,
    rejectedMutations,
    maxMs: sorted.at(-1) ?? 0,
    p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
    failures: [...failures.values()],
    seed: usedSeed,
  };
}

export function describeFailures(failures: FuzzFailure[]): string {
  return failures.map((f) => `  ${f.count}× ${f.signature}\n     e.g. ${f.example}`).join("\n");
}
