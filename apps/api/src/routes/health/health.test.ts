import { ZExperimentSpec, ZHealth, ZReady } from "@actlab/contracts";
import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, request, SMALL_SPEC, startTestApi, type TestApi } from "../../__tests__/helpers.js";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi("health");
});
afterAll(async () => t?.close());

type ProblemExample = { example?: { status?: number } };
/** A response in the document: the example sits on the media type (plugins/external/docs.ts moves it there). */
type ResponseDoc = { content: Record<string, ({ schema?: ProblemExample } & ProblemExample) | undefined> };

describe("operations endpoints", () => {
  it("/healthz and /readyz answer without a key", async () => {
    const live = await t.app.inject({ method: "GET", url: "/healthz" });
    expect(ZHealth.parse(live.json())).toEqual({ status: "ok" });
    const ready = await t.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ZReady.parse(ready.json())).toEqual({ status: "ready", checks: { postgres: "ok", redis: "ok" } });
  });

  it("/metrics exposes HTTP latency, queue depth and runs by status", async () => {
    await request(t, "POST", "/v1/experiments", { payload: SMALL_SPEC });
    await t.app.inject({ method: "GET", url: "/v1/experiments", headers: bearer(t.keyA) });
    const res = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toMatch(
      /actlab_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/experiments",status_code="200"\} \d+/,
    );
    expect(res.body).toContain('actlab_queue_jobs{queue="training",state="waiting"} 4');
    expect(res.body).toContain('actlab_runs{status="queued"} 4');
    expect(res.body).toContain("actlab_api_process_cpu_seconds_total");
  });

  it("/openapi.json is a valid OpenAPI 3 document covering every route, and /docs serves Swagger UI", async () => {
    const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    // validate() dereferences in place: give it a copy.
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc.openapi).toBe("3.0.3");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/healthz",
        "/metrics",
        "/readyz",
        "/v1/activations",
        "/v1/datasets",
        "/v1/experiments",
        "/v1/experiments/{id}",
        "/v1/compare",
        "/v1/experiments/{id}/cancel",
        "/v1/experiments/{id}/continue",
        "/v1/experiments/estimate",
        "/v1/experiments/{id}/events",
        "/v1/experiments/{id}/metrics",
        "/v1/experiments/{id}/metrics.csv",
        "/v1/experiments/{id}/report",
        "/v1/presets",
        "/v1/runs/{id}",
        "/v1/runs/{id}/model/model.json",
        "/v1/runs/{id}/model/weights.bin",
        "/v1/runs/{id}/predict",
        "/v1/webhooks",
        "/v1/webhooks/{id}",
        "/v1/webhooks/{id}/deliveries",
      ].sort(),
    );
    const post = doc.paths["/v1/experiments"].post;
    expect(post.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(post.responses)).toEqual(
      expect.arrayContaining(["202", "400", "401", "409", "413", "415", "429"]),
    );
    expect(post.parameters.map((p: { name: string }) => p.name)).toContain("idempotency-key");
    // "Try it out" submits a small experiment, not every activation × 3 repeats × 30 epochs.
    const example = post.requestBody.content["application/json"].schema.example;
    const spec = ZExperimentSpec.parse(example);
    expect(spec.variants.length * spec.training.repeats).toBe(2);
    expect(spec.training.epochs).toBeLessThanOrEqual(10);
    // Each problem response's example carries its own status, never Number.MAX_SAFE_INTEGER.
    for (const [code, response] of Object.entries(post.responses) as [string, ResponseDoc][]) {
      if (code.startsWith("2")) continue;
      const media = response.content["application/problem+json"] ?? response.content["application/json"];
      expect((media?.example ?? media?.schema?.example)?.status, `example of ${code}`).toBe(Number(code));
      expect(JSON.stringify(media)).not.toContain("9007199254740991");
    }
    const docs = await t.app.inject({ method: "GET", url: "/docs/" });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain("swagger-ui");
  });
});

describe("outages", () => {
  it("Postgres down: /readyz is 503 naming postgres, /v1 answers 503 problems quickly", async () => {
    const down = await startTestApi("pgdown");
    // Re-point a second app at a port where nothing listens.
    const { buildApp } = await import("../../app.js");
    const app = await buildApp({
      env: { ...down.env, DATABASE_URL: "postgresql://postgres@127.0.0.1:1/nothing" },
    });
    await app.ready();
    try {
      const started = Date.now();
      const ready = await app.inject({ method: "GET", url: "/readyz" });
      expect(ready.statusCode).toBe(503);
      const body = ZReady.parse(ready.json());
      expect(body).toMatchObject({
        status: "unavailable",
        checks: { postgres: expect.stringMatching(/^down/), redis: "ok" },
      });
      expect(body.detail).toBe("postgres not reachable");
      const res = await app.inject({ method: "GET", url: "/v1/experiments", headers: bearer(down.keyA) });
      expect(res.statusCode).toBe(503);
      expect(res.headers["content-type"]).toMatch(/problem\+json/);
      expect(res.headers["retry-after"]).toBe("5");
      expect(res.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres@/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await app.close();
      await down.close();
    }
  });

  it("Redis down: experiments are still stored (202), /readyz names redis", async () => {
    const up = await startTestApi("redisdown");
    const { buildApp } = await import("../../app.js");
    const app = await buildApp({ env: { ...up.env, REDIS_URL: "redis://127.0.0.1:1" } });
    await app.ready();
    try {
      const res = await app.inject({
        method: "POST",
        url: "/v1/experiments",
        headers: bearer(up.keyA),
        payload: SMALL_SPEC,
      });
      expect(res.statusCode).toBe(202);
      expect(await up.database.db.run.count({ where: { experimentId: res.json().id } })).toBe(4);
      const ready = await app.inject({ method: "GET", url: "/readyz" });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks).toMatchObject({ postgres: "ok", redis: expect.stringMatching(/^down/) });
      const cancel = await app.inject({
        method: "POST",
        url: `/v1/experiments/${res.json().id}/cancel`,
        headers: bearer(up.keyA),
      });
      expect(cancel.statusCode).toBe(202);
      const events = await app.inject({ method: "GET", url: "/metrics" });
      expect(events.statusCode).toBe(200);
    } finally {
      await app.close();
      await up.close();
    }
  });
});
