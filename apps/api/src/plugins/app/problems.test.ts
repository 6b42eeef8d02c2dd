import { LIMITS, ZProblem } from "@actlab/contracts";
import { describe, expect, it } from "vitest";
import { bearer, request, SMALL_SPEC, startTestApi, testApiForFile } from "../../__tests__/helpers.js";
import { isUnavailable } from "./problems.js";

const t = testApiForFile("problems", { RATE_LIMIT_MAX: "1000" });

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown; body: string },
  status: number,
  type: string,
) {
  expect(res.statusCode).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const p = ZProblem.parse(res.json());
  expect(p.status).toBe(status);
  expect(p.type).toBe(type);
  expect(res.body).not.toMatch(/\n\s+at |node_modules|Prisma|ioredis/);
  return p;
}

describe("problem+json for every error", () => {
  it("unknown routes and methods are 404 problems", async () => {
    expectProblem(
      await t.app.inject({ method: "GET", url: "/v1/nope", headers: bearer(t.keyA) }),
      404,
      "/problems/not-found",
    );
    expectProblem(await t.app.inject({ method: "POST", url: "/nope" }), 404, "/problems/not-found");
    expectProblem(
      await t.app.inject({ method: "PUT", url: "/v1/experiments", headers: bearer(t.keyA) }),
      404,
      "/problems/not-found",
    );
  });

  it("malformed JSON, prototype poisoning, an empty JSON object body and a wrong content type", async () => {
    const post = (payload: string, contentType = "application/json") =>
      t.app.inject({
        method: "POST",
        url: "/v1/experiments",
        headers: { ...bearer(t.keyA), "content-type": contentType },
        payload,
      });
    expectProblem(await post('{"variants": ['), 400, "/problems/malformed-json");
    expectProblem(await post('{"__proto__": {"x": 1}, "variants": []}'), 400, "/problems/malformed-json");
    expectProblem(await post("variants=relu", "text/plain"), 415, "/problems/unsupported-media-type");
    expectProblem(
      await post("a=b", "application/x-www-form-urlencoded"),
      415,
      "/problems/unsupported-media-type",
    );
    const empty = expectProblem(await post(""), 400, "/problems/validation");
    expect(empty.errors).toEqual([expect.objectContaining({ path: "variants" })]);
    const array = expectProblem(await post("[1,2]"), 400, "/problems/validation");
    expect(array.errors!.length).toBeGreaterThan(0);
    const wrongTypes = expectProblem(
      await post('{"variants": "relu", "training": {"epochs": "many"}}'),
      400,
      "/problems/validation",
    );
    expect(wrongTypes.errors!.map((e) => e.path)).toEqual(
      expect.arrayContaining(["variants", "training.epochs"]),
    );
  });

  it("a body over the limit is a 413 problem", async () => {
    const big = JSON.stringify({ ...SMALL_SPEC, name: "x".repeat(LIMITS.maxBodyBytes) });
    expectProblem(
      await request(t, "POST", "/v1/experiments", {
        payload: big,
        headers: { "content-type": "application/json" },
      }),
      413,
      "/problems/payload-too-large",
    );
  });

  it("missing, malformed, unknown and revoked keys are 401 problems with a Bearer challenge", async () => {
    const none = expectProblem(
      await t.app.inject({ method: "GET", url: "/v1/experiments" }),
      401,
      "/problems/unauthorized",
    );
    expect(none.detail).toMatch(/Authorization: Bearer/);
    for (const authorization of [
      "Basic abc",
      "Bearer",
      "Bearer ak_short",
      `Bearer ${t.keyA}x`,
      `Bearer ${t.keyA.slice(0, -1)}y`,
    ]) {
      const res = await t.app.inject({ method: "GET", url: "/v1/experiments", headers: { authorization } });
      expectProblem(res, 401, "/problems/unauthorized");
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="actlab"/);
    }
  });

  it("validation errors in params and query use their own field names", async () => {
    const res = expectProblem(
      await request(t, "GET", "/v1/activations?points=1&activation=nope"),
      400,
      "/problems/validation",
    );
    expect(res.errors!.map((e) => e.path).sort()).toEqual(["activation", "points"]);
  });
});

describe("rate limit per key", () => {
  it("answers 429 with Retry-After once a key used its window, other keys unaffected", async () => {
    const limited = await startTestApi("ratelimit", { RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW_MS: "60000" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (await limited.app.inject({ method: "GET", url: "/v1/presets", headers: bearer(limited.keyA) }))
            .statusCode,
        );
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const res = await request(limited, "GET", "/v1/presets");
      const p = expectProblem(res, 429, "/problems/rate-limited");
      expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
      expect(p.detail).toMatch(/retry/i);
      const other = await request(limited, "GET", "/v1/presets", { key: limited.keyB });
      expect(other.statusCode).toBe(200);
      expect(other.headers["x-ratelimit-remaining"]).toBe("2");
      // Stored in Redis under the app's prefix, so every API process shares the count.
      // (B's single request is flushed in the background, far below its limit.)
      await expect
        .poll(async () => (await limited.app.redis.keys(`${limited.prefix}:ratelimit:*`)).length)
        .toBe(2);
    } finally {
      await limited.close();
    }
  });
});

describe("isUnavailable", () => {
  it("treats a Postgres that does not answer in time as unavailable (503), not as a bug (500)", async () => {
    // node-postgres' own query_timeout error, bare and as the cause of a driver-adapter error.
    const timeout = new Error("Query read timeout");
    expect(isUnavailable(timeout)).toBe(true);
    expect(isUnavailable(Object.assign(new Error("driver error"), { cause: timeout }))).toBe(true);
    expect(isUnavailable(new Error("column does not exist"))).toBe(false);
  });
});
