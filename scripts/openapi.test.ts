// The OpenAPI document the API serves: lint-clean under Redocly's recommended rules, every
// operation named by a verb, and the committed client generated from exactly this document.
import { describe, expect, it } from "vitest";
import { clientFiles, lintOpenApi, readCommittedClient, servedOpenApiDocument } from "./lib/openapi.js";

type Operation = { operationId?: string; security?: unknown[]; responses: Record<string, unknown> };

describe("the served OpenAPI document", () => {
  it("has 0 errors and 0 warnings under Redocly's recommended rules", async () => {
    const result = await lintOpenApi();
    expect(result.output).toContain("Your API description is valid");
    expect({ errors: result.errors, warnings: result.warnings }, result.output).toEqual({
      errors: 0,
      warnings: 0,
    });
    expect(result.ok).toBe(true);
  });

  it("names every operation with a unique verb-first operationId and declares its security", async () => {
    const doc = JSON.parse(await servedOpenApiDocument(process.env)) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, ...op })),
    );
    expect(ops.length).toBeGreaterThan(15);
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of ops) {
      expect(op.operationId, op.where).toMatch(
        /^(get|list|create|delete|cancel|stream|predict|export|continue|compare|update|estimate)[A-Z]\w*$/,
      );
      expect(Array.isArray(op.security), op.where).toBe(true);
      expect(
        Object.keys(op.responses).some((c) => c.startsWith("4")),
        op.where,
      ).toBe(true);
    }
    expect(ids).toEqual(
      expect.arrayContaining([
        "createExperiment",
        "getExperiment",
        "listExperiments",
        "streamExperimentEvents",
        "cancelExperiment",
        "predictRun",
      ]),
    );
  });

  it("is the one the committed client (packages/client) was generated from", async () => {
    const [served, committed] = await Promise.all([clientFiles(), readCommittedClient()]);
    for (const [path, text] of Object.entries(served)) {
      expect(committed[path] === text, `${path} is stale: run npm run client:generate`).toBe(true);
    }
  });
});
