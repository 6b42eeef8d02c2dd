import fastifyHelmet from "@fastify/helmet";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { bearer, testApiForFile } from "../../__tests__/helpers.js";
import { HELMET_OPTIONS, SECURITY_HEADERS } from "./security-headers.js";

const t = testApiForFile("headers");

describe("security headers", () => {
  it("are exactly what helmet sends with actlab's options", async () => {
    const bare = Fastify();
    await bare.register(fastifyHelmet, HELMET_OPTIONS);
    bare.get("/", async () => ({ ok: true }));
    const res = await bare.inject({ method: "GET", url: "/" });
    const fromHelmet = Object.fromEntries(Object.keys(SECURITY_HEADERS).map((k) => [k, res.headers[k]]));
    expect(fromHelmet).toEqual(SECURITY_HEADERS);
    const extra = Object.keys(res.headers).filter(
      (k) =>
        !(k in SECURITY_HEADERS) && !["content-type", "content-length", "date", "connection"].includes(k),
    );
    expect(extra).toEqual([]);
    await bare.close();
  });

  it("are on success, problem, 401, 404 and operational responses", async () => {
    const responses = await Promise.all([
      t.app.inject({ method: "GET", url: "/v1/presets", headers: bearer(t.keyA) }),
      t.app.inject({ method: "GET", url: "/v1/experiments?limit=0", headers: bearer(t.keyA) }),
      t.app.inject({ method: "GET", url: "/v1/experiments" }),
      t.app.inject({ method: "GET", url: "/nope" }),
      t.app.inject({ method: "GET", url: "/healthz" }),
      t.app.inject({ method: "GET", url: "/metrics" }),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 400, 401, 404, 200, 200]);
    for (const res of responses) {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect([k, res.headers[k]]).toEqual([k, v]);
      expect(res.headers["x-powered-by"]).toBeUndefined();
    }
  });
});
