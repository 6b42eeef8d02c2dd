import { readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import { ZProblem } from "@actlab/contracts";
import { type FuzzRequest, type FuzzTarget, send } from "./fuzz.js";
import { percentile } from "./results.js";

/**
 * The security checks, shared by the fast in-process test (`npm test`) and the scenario against
 * the built API process. Each returns a list of violations (empty = pass) and its figures.
 */

const call = (t: FuzzTarget, method: string, path: string, auth: string | null, body?: string) => {
  const headers: Record<string, string> = {};
  if (auth !== null) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r: FuzzRequest = { method, path, headers, body, kind: `${method} ${path}` };
  return send(t.baseUrl, r, 10_000);
};

/** Every /v1 route, with the target tenant's ids filled in. */
export function protectedRoutes(t: FuzzTarget): Array<[string, string, string?]> {
  const img = `[${Array.from({ length: 784 }, () => "0.5").join(",")}]`;
  return [
    [
      "POST",
      "/v1/experiments",
      JSON.stringify({ variants: [{ activation: "relu" }], dataset: { samples: 100 } }),
    ],
    ["GET", "/v1/experiments"],
    ["GET", `/v1/experiments/${t.ids.experiment}`],
    ["GET", `/v1/experiments/${t.ids.experiment}/metrics`],
    ["GET", `/v1/experiments/${t.ids.experiment}/events`],
    ["POST", `/v1/experiments/${t.ids.experiment}/cancel`],
    ["DELETE", `/v1/experiments/${t.ids.experiment}`],
    ["GET", `/v1/runs/${t.ids.run}`],
    ["GET", `/v1/runs/${t.ids.run}/model/model.json`],
    ["GET", `/v1/runs/${t.ids.run}/model/weights.bin`],
    ["POST", `/v1/runs/${t.ids.run}/predict`, `{"inputs":[${img}]}`],
    ["GET", "/v1/activations"],
    ["GET", "/v1/datasets"],
    ["GET", "/v1/presets"],
  ];
}

function isProblem(res: { status: number; contentType: string; text: string }, status: number): boolean {
  if (res.status !== status || !/^application\/problem\+json/.test(res.contentType)) return false;
  try {
    return ZProblem.parse(JSON.parse(res.text)).status === status;
  } catch {
    return false;
  }
}

/** No key, a malformed key, a revoked key: 401 problem+json on every route. Another tenant's key: 404, nothing of theirs. */
export async function checkAuth(t: FuzzTarget, secrets: { experimentName: string }) {
  const violations: string[] = [];
  let checked = 0;
  for (const [method, path, body] of protectedRoutes(t)) {
    for (const [label, auth] of [
      ["no key", null],
      ["malformed", "Bearer"],
      ["basic", `Basic ${Buffer.from(`x:${t.key}`).toString("base64")}`],
      ["revoked", `Bearer ${t.revokedKey}`],
      ["unknown", `Bearer ak_${"A".repeat(43)}`],
    ] as const) {
      const res = await call(t, method, path, auth, body);
      checked++;
      if (!isProblem(res, 401))
        violations.push(`${label} ${method} ${path} → ${res.status} ${res.text.slice(0, 80)}`);
    }
  }
  // The SSE route also takes ?access_token= (EventSource cannot send headers).
  for (const [label, token, want] of [
    ["revoked token", t.revokedKey, 401],
    ["other tenant token", t.otherKey, 404],
  ] as const) {
    const res = await call(
      t,
      "GET",
      `/v1/experiments/${t.ids.experiment}/events?access_token=${token}`,
      null,
    );
    checked++;
    if (!isProblem(res, want)) violations.push(`${label} on events → ${res.status}`);
  }
  // Another tenant: 404 on every route that names one of our things, and the same 404 as for
  // something that does not exist; never our ids or names in the body.
  let isolated = 0;
  for (const [method, path, body] of protectedRoutes(t)) {
    if (!/\/(experiments|runs)\/[0-9a-f-]{36}/.test(path)) continue;
    const res = await call(t, method, path, `Bearer ${t.otherKey}`, body);
    checked++;
    isolated++;
    if (!isProblem(res, 404))
      violations.push(`other tenant ${method} ${path} → ${res.status} ${res.text.slice(0, 80)}`);
    if (
      res.text.includes(secrets.experimentName) ||
      (res.text.includes(t.ids.run) && !path.includes(t.ids.run))
    )
      violations.push(`other tenant ${method} ${path} saw our data`);
  }
  const list = await call(t, "GET", "/v1/experiments?limit=100", `Bearer ${t.otherKey}`);
  checked++;
  if (
    list.status !== 200 ||
    list.text.includes(t.ids.experiment) ||
    list.text.includes(secrets.experimentName)
  )
    violations.push(`other tenant's list shows our experiment (${list.status})`);
  const metrics = await call(
    t,
    "GET",
    `/v1/experiments/${t.ids.otherExperiment}/metrics?runs=${t.ids.run}`,
    `Bearer ${t.otherKey}`,
  );
  checked++;
  if (metrics.text.includes(t.ids.run))
    violations.push("another tenant reached our run through its own experiment's ?runs=");
  // The owner does reach them (so the 404s above mean isolation, not breakage).
  const mine = await call(t, "GET", `/v1/experiments/${t.ids.experiment}`, `Bearer ${t.key}`);
  if (mine.status !== 200) violations.push(`owner cannot read its experiment (${mine.status})`);
  return { violations, checked, isolated };
}

const REQUIRED_HEADERS: Array<[string, RegExp]> = [
  ["x-content-type-options", /^nosniff$/],
  ["x-frame-options", /^(DENY|SAMEORIGIN)$/i],
  ["strict-transport-security", /max-age=\d+/],
  ["content-security-policy", /default-src/],
  ["referrer-policy", /no-referrer/],
  ["cross-origin-opener-policy", /same-origin/],
  ["cross-origin-resource-policy", /same-origin/],
];

/** Helmet's headers on success, problem, 401, 404 and operational responses; no x-powered-by. */
export async function checkHeaders(t: FuzzTarget) {
  const violations: string[] = [];
  const targets: Array<[string, string, string | null]> = [
    ["GET", "/healthz", null],
    ["GET", "/readyz", null],
    ["GET", "/openapi.json", null],
    ["GET", "/v1/experiments", `Bearer ${t.key}`],
    ["GET", `/v1/experiments/${t.ids.experiment}`, `Bearer ${t.key}`],
    ["GET", "/v1/experiments", null],
    ["GET", "/v1/nope", `Bearer ${t.key}`],
    ["GET", "/v1/activations?points=1", `Bearer ${t.key}`],
    ["GET", `/v1/experiments/${"x".repeat(120)}`, `Bearer ${t.key}`],
    ["GET", "/v1/runs/%zz", `Bearer ${t.key}`],
  ];
  for (const [method, path, auth] of targets) {
    const headers: Record<string, string> = auth ? { authorization: auth } : {};
    const res = await fetch(`${t.baseUrl}${path}`, { method, headers });
    await res.arrayBuffer();
    for (const [name, re] of REQUIRED_HEADERS) {
      const v = res.headers.get(name);
      if (!v || !re.test(v)) violations.push(`${method} ${path} (${res.status}): ${name} = ${v}`);
    }
    if (res.headers.get("x-powered-by")) violations.push(`${method} ${path}: x-powered-by present`);
    if (
      auth &&
      res.status === 200 &&
      path.startsWith("/v1") &&
      !/no-store/.test(res.headers.get("cache-control") ?? "")
    )
      violations.push(`${method} ${path}: authenticated 200 without cache-control no-store`);
  }
  return { violations, checked: targets.length };
}

/** Each key (and its secret part alone) must appear nowhere in the captured output. */
export function checkLogs(output: string, keys: string[]) {
  const violations: string[] = [];
  for (const key of keys) {
    const secret = key.slice(12); // the part after the stored lookup prefix
    if (output.includes(key)) violations.push(`key ${key.slice(0, 6)}… appears in the logs`);
    else if (secret.length >= 16 && output.includes(secret))
      violations.push(`secret part of ${key.slice(0, 6)}… in the logs`);
  }
  return { violations, bytes: output.length, keys: keys.length };
}

/** A burst from one key far over its limit: at most `max` served, the rest 429 problem+json with Retry-After. */
export async function checkRateLimit(
  baseUrl: string,
  key: string,
  otherKey: string,
  max: number,
  burst: number,
) {
  const violations: string[] = [];
  const results = await Promise.all(
    Array.from({ length: burst }, () =>
      fetch(`${baseUrl}/v1/presets`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => ({
        status: r.status,
        retryAfter: r.headers.get("retry-after"),
        type: r.headers.get("content-type") ?? "",
        body: await r.text(),
      })),
    ),
  );
  const ok = results.filter((r) => r.status === 200).length;
  const limited = results.filter((r) => r.status === 429);
  if (ok > max) violations.push(`${ok} of ${burst} served, limit ${max}`);
  if (ok + limited.length !== burst)
    violations.push(`other statuses: ${[...new Set(results.map((r) => r.status))].join(",")}`);
  for (const r of limited.slice(0, 20)) {
    if (!/^application\/problem\+json/.test(r.type) || !r.retryAfter)
      violations.push(`429 without problem+json/Retry-After`);
  }
  const other = await fetch(`${baseUrl}/v1/presets`, { headers: { authorization: `Bearer ${otherKey}` } });
  if (other.status !== 200) violations.push(`another key was limited too (${other.status})`);
  return { violations: [...new Set(violations)], ok, limited: limited.length, burst };
}

/** One GET over its own connection, sent from `localAddress` (any 127.x.y.z works on loopback). */
function getFrom(baseUrl: string, path: string, headers: Record<string, string>, localAddress: string) {
  const url = new URL(baseUrl);
  return new Promise<{ status: number; contentType: string; retryAfter: string | null; text: string }>(
    (resolve, reject) => {
      const req = http.get(
        { host: url.hostname, port: url.port, path, headers, localAddress, agent: false, timeout: 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers["content-type"] ?? ""),
              retryAfter: (res.headers["retry-after"] as string | undefined) ?? null,
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
    },
  );
}

/**
 * `n` requests with made-up keys from one client address (`from`, a loopback address no other
 * check uses, so its failure window starts here), 50 at a time. The API may look up at most
 * `limit` of them (AUTH_FAILURE_LIMIT): exactly `limit` answer 401, the rest 429 problem+json
 * with Retry-After. Meanwhile a key the API has already seen (`validKey`) still works from that
 * address, and a made-up key from another address (`otherFrom`) is still a plain 401.
 */
export async function checkBogusKeyBurst(
  baseUrl: string,
  n: number,
  { limit, from, otherFrom, validKey }: { limit: number; from: string; otherFrom: string; validKey: string },
) {
  const violations: string[] = [];
  const times: number[] = [];
  const statuses = new Map<number, number>();
  const refused: Array<{ contentType: string; retryAfter: string | null; text: string }> = [];
  const bogus = (i: number) => `Bearer ak_${i.toString(36).padStart(8, "0")}${"x".repeat(35)}`;
  const one = async (i: number) => {
    const started = performance.now();
    const r = await getFrom(baseUrl, "/v1/experiments", { authorization: bogus(i) }, from);
    times.push(performance.now() - started);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status === 429) refused.push(r);
  };
  for (let i = 0; i < n; i += 50)
    await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => one(i + k)));
  const unauthorized = statuses.get(401) ?? 0;
  const limited = statuses.get(429) ?? 0;
  if (unauthorized !== Math.min(n, limit))
    violations.push(`${unauthorized} × 401, expected ${Math.min(n, limit)}`);
  for (const s of statuses.keys()) if (s !== 401 && s !== 429) violations.push(`${statuses.get(s)}× ${s}`);
  for (const r of refused.slice(0, 20)) {
    let type = "";
    try {
      type = (JSON.parse(r.text) as { type?: string }).type ?? "";
    } catch {}
    if (!/^application\/problem\+json/.test(r.contentType) || !(Number(r.retryAfter) > 0))
      violations.push("429 without problem+json/Retry-After");
    if (type !== "/problems/too-many-auth-failures") violations.push(`429 of type ${type}`);
  }
  const valid = await getFrom(baseUrl, "/v1/experiments", { authorization: `Bearer ${validKey}` }, from);
  if (valid.status !== 200) violations.push(`a known valid key from the flooding address → ${valid.status}`);
  const other = await getFrom(baseUrl, "/v1/experiments", { authorization: bogus(n + 1) }, otherFrom);
  if (other.status !== 401) violations.push(`a made-up key from another address → ${other.status}`);
  return {
    violations: [...new Set(violations)],
    p99: percentile(times, 99),
    n,
    unauthorized,
    limited,
    retryAfter: Number(refused[0]?.retryAfter ?? 0),
  };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = `${dir}/${name}`;
    if (name === "node_modules" || name === "dist" || name === "generated" || name === "__tests__") continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/**
 * Where input could reach SQL. Queries live in packages/db only: elsewhere no `pg` import, no
 * Prisma raw query and no Kysely raw escape. Inside it: no `$queryRawUnsafe`/`$executeRawUnsafe`
 * or `sql.raw(` anywhere; every node-postgres `.query(` whose SQL text is a template with `${…}`,
 * and every Kysely `sql.lit(` (a value written into the SQL text), is on a short list of places
 * that put only server-made values there (reviewed by hand; see docs/reliability.md).
 */
export const REVIEWED_SQL_INTERPOLATIONS: Record<string, RegExp> = {
  // CREATE/DROP DATABASE with quoteIdent(name from DATABASE_URL, an operator setting)
  "packages/db/src/database.ts": /\$\{quoteIdent\(database\)\}/,
};
export const REVIEWED_SQL_LITERALS: Record<string, RegExp[]> = {
  // pg_advisory_xact_lock(<constant>, <FNV hash of the tenant id: an int the server computes>)
  // and the two active statuses as constants.
  "packages/db/src/lifecycle/create.ts": [
    /^sql\.lit\(TENANT_LOCK_NAMESPACE\)$/,
    /^sql\.lit\(tenantLockKey\(tenantId\)\)$/,
    /^sql\.lit\("(queued|running)"( as const)?\)$/,
  ],
};

export function checkSqlSources(root: string) {
  const files = ["apps/api/src", "apps/worker/src", "packages/db/src", "packages/queue/src"].flatMap((d) =>
    walk(`${root}/${d}`),
  );
  const violations: string[] = [];
  let queries = 0;
  for (const file of files) {
    const rel = file.slice(root.length + 1);
    const text = readFileSync(file, "utf8");
    if (!rel.startsWith("packages/db/")) {
      if (/from "pg"/.test(text)) violations.push(`${rel}: imports pg outside packages/db`);
      if (/\$(query|execute)Raw/.test(text)) violations.push(`${rel}: raw Prisma query outside packages/db`);
      if (/\bsql(\.\w+)?`/.test(text)) violations.push(`${rel}: Kysely SQL outside packages/db`);
    }
    if (/\$(query|execute)RawUnsafe/.test(text))
      violations.push(`${rel}: uses $queryRawUnsafe/$executeRawUnsafe`);
    if (/\bsql\.raw\(/.test(text)) violations.push(`${rel}: uses sql.raw`);
    for (const m of text.matchAll(/\bsql\.lit\([^)]*\)*/g)) {
      queries++;
      if (!REVIEWED_SQL_LITERALS[rel]?.some((re) => re.test(m[0]))) {
        violations.push(`${rel}: value written into SQL text: ${m[0].slice(0, 80)}`);
      }
    }
    for (const m of text.matchAll(/\.query(?:<[^>]*>)?\(\s*`([^`]*)`/g)) {
      queries++;
      if (!m[1]!.includes("${")) continue;
      const allowed = REVIEWED_SQL_INTERPOLATIONS[rel];
      if (!allowed?.test(m[0] + m[1])) violations.push(`${rel}: SQL built with \${…}: ${m[1]!.slice(0, 80)}`);
    }
  }
  return { violations, files: files.length, queries };
}
