// Every activation through every path its one definition (ACTIVATIONS in @actlab/contracts)
// feeds: the variant schema, the catalog the API serves, the TF.js layer the trainer builds and
// the native engine's id. Adding an activation to the table puts it through all of them.
import {
  ACTIVATION_NAMES,
  type ActivationParamDef,
  activationDef,
  type TActivationName,
  type TVariant,
  ZActivationCatalog,
  ZVariant,
} from "@actlab/contracts";
import { getActivation, initBackend, makeActivationLayer } from "@actlab/trainer";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestApi, type TestApi } from "../../apps/api/src/__tests__/helpers.js";

// Includes 0 (the kinks), values around it and large |x|.
const GRID = [-30, -5, -1, -1e-3, 0, 1e-3, 0.5, 1, 5, 30];

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi("activations");
  await initBackend({ device: "cpu", force: "cpu" });
});
afterAll(async () => api?.close());

const paramsOf = (name: TActivationName) =>
  Object.entries(activationDef(name).params) as [string, ActivationParamDef][];

const defaults = (name: TActivationName) =>
  Object.fromEntries(paramsOf(name).map(([k, p]) => [k, p.default]));

/**
 * The defaults with one parameter set; the other of an ordered pair (rrelu's lower ≤ upper)
 * follows within its own bounds, so only the parameter set can be wrong.
 */
function withParam(name: TActivationName, key: string, value: number): Record<string, unknown> {
  const def = activationDef(name);
  const v: Record<string, number> = { ...defaults(name), [key]: value };
  const clamp = (k: string, x: number) => Math.min(def.params[k]!.max, Math.max(def.params[k]!.min, x));
  const [lower, upper] = def.ordered ?? [];
  if (lower && upper) {
    if (key === lower) v[upper] = clamp(upper, Math.max(v[upper] as number, value));
    if (key === upper) v[lower] = clamp(lower, Math.min(v[lower] as number, value));
  }
  return { activation: name, ...v };
}

/** The smallest and largest value each parameter may take (just above an exclusive minimum). */
function boundVariants(name: TActivationName): TVariant[] {
  return paramsOf(name).flatMap(([k, p]) => [
    ZVariant.parse(withParam(name, k, p.minExclusive ? p.min + 1e-3 : p.min)),
    ZVariant.parse(withParam(name, k, p.max)),
  ]);
}

const pathsOf = (input: unknown) => {
  const r = ZVariant.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
};

function close(actual: number, expected: number, what: string) {
  const tol = 1e-5 + 1e-4 * Math.abs(expected);
  if (!(Math.abs(actual - expected) <= tol))
    throw new Error(`${what}: tf gives ${actual}, f/f′ give ${expected}`);
}

describe.each(ACTIVATION_NAMES)("%s", (name) => {
  const def = activationDef(name);

  it("variant schema: fills the defaults, takes each bound, rejects values past it by name", () => {
    expect(ZVariant.parse({ activation: name })).toEqual({ activation: name, ...defaults(name) });
    for (const [k, p] of paramsOf(name)) {
      expect(pathsOf(withParam(name, k, p.max))).toEqual([]);
      expect(pathsOf(withParam(name, k, p.max + 0.01))).toEqual([k]);
      expect(pathsOf(withParam(name, k, p.min))).toEqual(p.minExclusive ? [k] : []);
      expect(pathsOf(withParam(name, k, p.min - 0.01))).toEqual([k]);
    }
    const [lower, upper] = def.ordered ?? [];
    if (lower && upper) {
      const over = { ...defaults(name), [lower]: 0.5, [upper]: 0.4 };
      expect(pathsOf({ activation: name, ...over })).toEqual([lower]);
    }
    expect(pathsOf({ activation: name, notAParameter: 1 })).not.toEqual([]);
  });

  it("catalog: GET /v1/activations lists it with the definition's bounds and enforces them", async () => {
    const res = await api.app.inject({
      method: "GET",
      url: `/v1/activations?activation=${name}&from=-2&to=2&points=5`,
      headers: bearer(api.keyA),
    });
    expect(res.statusCode).toBe(200);
    const [entry] = ZActivationCatalog.parse(res.json()).activations;
    expect(entry).toMatchObject({
      name,
      title: def.title,
      formulaLatex: def.formulaLatex,
      derivativeLatex: def.derivativeLatex,
      learnable: def.learnable,
      reluLike: def.reluLike,
      saturating: def.saturating,
    });
    const listed = entry?.params.map((p) => [
      p.name,
      p.default,
      p.min,
      p.minInclusive,
      p.max,
      p.maxInclusive,
    ]);
    expect(listed).toEqual(
      paramsOf(name).map(([k, p]) => [k, p.default, p.min, !p.minExclusive, p.max, true]),
    );
    expect(entry?.params.map((p) => p.description)).toEqual(paramsOf(name).map(([, p]) => p.description));
    const { f } = getActivation(name);
    expect(entry?.samples.x).toEqual([-2, -1, 0, 1, 2]);
    entry?.samples.x.forEach((x, i) => {
      expect(entry.samples.f[i]).toBeCloseTo(f(x, defaults(name)), 12);
    });
    for (const [k, p] of paramsOf(name)) {
      for (const bad of [p.max + 0.01, p.minExclusive ? p.min : p.min - 0.01]) {
        const r = await api.app.inject({
          method: "GET",
          url: `/v1/activations?activation=${name}&${k}=${bad}`,
          headers: bearer(api.keyA),
        });
        expect(r.statusCode, `${k}=${bad}`).toBe(400);
        expect(r.json().errors.map((e: { path: string }) => e.path)).toEqual([k]);
      }
    }
    for (const k of Object.keys(def.plotParams ?? {})) {
      const r = await api.app.inject({
        method: "GET",
        url: `/v1/activations?activation=${name}&${k}=0.3&from=-2&to=2&points=5`,
        headers: bearer(api.keyA),
      });
      expect(r.statusCode).toBe(200);
      const plotted = ZActivationCatalog.parse(r.json()).activations[0]?.samples.f;
      expect(plotted?.[0]).toBeCloseTo(f(-2, { ...defaults(name), [k]: 0.3 }), 12);
    }
  });

  it("layer: builds at the defaults and at every bound, and tf.grad of it is f′", () => {
    const { f, df } = getActivation(name);
    for (const variant of [ZVariant.parse({ activation: name }), ...boundVariants(name)]) {
      const label = JSON.stringify(variant);
      const params = variant as unknown as Record<string, number>;
      const layer = makeActivationLayer(variant);
      const x = tf.tensor2d([GRID]);
      const y = (layer.apply(x, { training: false }) as tf.Tensor).dataSync();
      const dy = tf
        .grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: false }) as tf.Tensor))(x)
        .dataSync();
      GRID.forEach((xi, i) => {
        close(y[i] as number, f(xi, params), `${label} f(${xi})`);
        close(dy[i] as number, df(xi, params), `${label} f′(${xi})`);
      });
      x.dispose();
      layer.dispose();
    }
  });

  it("native engine: has its own kernel id", () => {
    expect(Number.isInteger(def.nativeId) && def.nativeId >= 0).toBe(true);
    const others = ACTIVATION_NAMES.filter((n) => n !== name).map((n) => activationDef(n).nativeId);
    expect(others).not.toContain(def.nativeId);
  });
});
