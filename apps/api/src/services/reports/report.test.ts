import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { resolveExperimentRequest, type TExperimentSpec } from "@actlab/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestApi, type TestApi } from "../../__tests__/helpers.js";
import { buildReport, type ReportEpoch, type ReportInput, type ReportRun } from "./build.js";
import { renderReportMarkdown } from "./markdown.js";

const ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));

function chapterSpec(): TExperimentSpec {
  const r = resolveExperimentRequest({
    preset: "chapter8-keras",
    name: "report test",
    variants: [{ activation: "sigmoid" }, { activation: "relu" }, { activation: "tanh" }],
    training: { epochs: 3, repeats: 2 },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.spec;
}

interface FakeRun {
  variantIndex: number;
  repeat: number;
  status: ReportRun["status"];
  /** Test accuracy per epoch; the last is the run's final accuracy. */
  accuracy: number[];
  gradNorms: number[];
  dead: number[];
  seconds: number;
}

/**
 * sigmoid: stuck near chance, first-layer gradient 10⁻³ of the last. relu: 0.80 → 0.91 → 0.93
 * and 0.85 → 0.95 → 0.95 (90% at epochs 2 and 2), 10% dead units. tanh: one run still running.
 */
// variantIndex, repeat, status, accuracy per epoch, grad norms, dead fractions, seconds
const FAKE: FakeRun[] = (
  [
    [0, 0, "succeeded", [0.1, 0.11, 0.11], [1e-3, 1e-2, 0.1, 0.5, 1], [0, 0, 0, 0], 30],
    [0, 1, "succeeded", [0.1, 0.12, 0.13], [2e-3, 1e-2, 0.1, 0.5, 2], [0, 0, 0, 0], 34],
    [1, 0, "succeeded", [0.8, 0.91, 0.93], [0.5, 0.6, 0.7, 0.8, 1], [0.1, 0.1, 0.1, 0.1], 20],
    [1, 1, "succeeded", [0.85, 0.95, 0.95], [0.5, 0.6, 0.7, 0.8, 1], [0.1, 0.1, 0.1, 0.1], 22],
    [2, 0, "succeeded", [0.7, 0.8, 0.88], [0.3, 0.4, 0.5, 0.8, 1], [0, 0, 0, 0], 25],
    [2, 1, "running", [0.72], [0.3, 0.4, 0.5, 0.8, 1], [0, 0, 0, 0], 9],
  ] as const
).map(([variantIndex, repeat, status, accuracy, gradNorms, dead, seconds]) => ({
  variantIndex,
  repeat,
  status,
  accuracy: [...accuracy],
  gradNorms: [...gradNorms],
  dead: [...dead],
  seconds,
}));

const SETUP = {
  actlab: { version: "0.1.0", commit: "0123456789abcdef0123456789abcdef01234567", dirty: false },
  backend: { name: "wasm", version: "4.22.0", libraries: [] },
  node: "v24.11.0",
  platform: "linux-x64",
  cpu: { model: "Example CPU @ 3.0GHz", cores: 2 },
};
const NATIVE = {
  ...SETUP,
  actlab: { ...SETUP.actlab, dirty: true },
  backend: {
    name: "native",
    version: "0.1.0",
    libraries: [{ name: "OpenBLAS", version: "0.3.29", core: "Haswell", threads: 1 }],
  },
};

function fakeInput(): ReportInput {
  const t0 = new Date("2026-11-28T01:00:00Z");
  const runs: ReportRun[] = [];
  const metrics: ReportEpoch[] = [];
  for (const [i, f] of FAKE.entries()) {
    const id = randomUUID();
    const done = f.status === "succeeded";
    // Succeeded runs on two wasm workers of one host; the others on a native worker elsewhere.
    const worker = done ? { id: `w${i % 2}`, hostname: "h1" } : { id: "n1", hostname: "h2" };
    runs.push({
      id,
      variantIndex: f.variantIndex,
      repeat: f.repeat,
      status: f.status,
      backend: "wasm",
      epochsCompleted: f.accuracy.length,
      testAccuracy: done ? f.accuracy.at(-1)! : null,
      testLoss: done ? 1 - f.accuracy.at(-1)! : null,
      seconds: done ? f.seconds : null,
      startedAt: new Date(t0.getTime() + 1_000),
      finishedAt: done ? new Date(t0.getTime() + 61_000) : null,
      provenance: { ...(done ? SETUP : NATIVE), worker },
    });
    f.accuracy.forEach((testAccuracy, i) => {
      metrics.push({
        runId: id,
        epoch: i + 1,
        testAccuracy,
        gradNorms: f.gradNorms,
        deadFraction: f.dead,
        saturatedFraction: f.dead,
      });
    });
  }
  return {
    experiment: {
      id: randomUUID(),
      name: "report test",
      status: "running",
      spec: chapterSpec(),
      createdAt: t0,
      startedAt: new Date(t0.getTime() + 1_000),
      finishedAt: null,
    },
    runs,
    metrics,
  };
}

describe("buildReport (pure)", () => {
  it("calls a setup the chapter's code only if it is one: an edited preset is a setup of its own", () => {
    const input = fakeInput();
    expect(buildReport(input).setup.code).toBe("keras");
    const tf = resolveExperimentRequest({ preset: "chapter8-tf", training: { epochs: 5 } });
    if (!tf.ok) throw new Error("preset");
    expect(buildReport({ ...input, experiment: { ...input.experiment, spec: tf.spec } }).setup.code).toBe(
      "tf",
    );
    const edited = { ...input.experiment.spec, model: { ...input.experiment.spec.model, units: 64 } };
    const report = buildReport({ ...input, experiment: { ...input.experiment, spec: edited } });
    expect(report.setup.code).toBeNull();
    expect(renderReportMarkdown(report)).not.toMatch(/the chapter's (Keras|TF) code/);
  });

  it("computes per-variant statistics, the chapter's figures and verdicts", () => {
    const report = buildReport(fakeInput());
    const [sigmoid, relu, tanh] = report.variants;
    expect(report.setup).toMatchObject({
      train: 8000,
      test: 2000,
      pixelScale: "unit",
      network: "784-200-200-200-200-10",
      batchSize: 100,
      epochs: 3,
      repeats: 2,
      backends: ["wasm"],
      code: "keras",
    });

    expect(relu!.testAccuracy.mean).toBeCloseTo(0.94, 10);
    expect(relu!.testAccuracy.std).toBeCloseTo(Math.SQRT2 * 0.01, 10);
    expect(relu!.epochsTo90).toEqual({ mean: 2, reached: 2, of: 2, values: [2, 2] });
    expect(relu!.seconds).toEqual({ mean: 21, perEpoch: 7 });
    expect(relu!.deadFraction).toBeCloseTo(0.1, 10);
    expect(relu!.gradNormRatio.geomean).toBeCloseTo(0.5, 10);
    expect(relu!.chapter).toEqual([{ accuracy: 0.941, code: "keras", epochs: 1000, batchSize: 100 }]);
    expect(relu!.verdict).toBe(
      "learns: 94.0%, 90% by epoch 2; gradient reaches the first layer (first/last 0.50); 10% of units dead",
    );

    // Ratios 1e-3 and 1e-3 (2e-3 / 2): geometric mean 1e-3.
    expect(sigmoid!.gradNormRatio.geomean).toBeCloseTo(1e-3, 10);
    expect(sigmoid!.gradNorms[0]).toBeCloseTo(Math.sqrt(2) * 1e-3, 10);
    expect(sigmoid!.deadFraction).toBeNull();
    expect(sigmoid!.epochsTo90).toEqual({ mean: null, reached: 0, of: 2, values: [null, null] });
    expect(sigmoid!.verdict).toBe(
      "did not learn: 12.0% after 3 epochs (chance is 10%); gradient vanishes: first layer 10⁻³ of last",
    );

    // The running tanh run is left out of the means; the finished one never reached 90%.
    expect(tanh!.runs).toEqual({ total: 2, succeeded: 1, byStatus: { succeeded: 1, running: 1 } });
    expect(tanh!.testAccuracy).toEqual({ mean: 0.88, std: null, values: [0.88] });
    expect(tanh!.verdict).toMatch(/^learns slowly: 88\.0% after 3 epochs, never 90%; gradient reaches/);
    expect(report.notes[0]).toBe("1 of 6 runs are not finished: the numbers cover finished runs only.");

    expect(report.comparison).toMatchObject({ best: "relu", second: "tanh", spread: null, separated: null });
    expect(report.comparison!.difference).toBeCloseTo(0.06, 10);
    expect(report.experiment.wallSeconds).toBeNull();
  });

  it("says whether the two best differ by more than their spread", () => {
    const input = fakeInput();
    // Make tanh's running run a finished 0.935: tanh 0.88/0.935 vs relu 0.93/0.95.
    const runs = input.runs.map((r) =>
      r.status === "running" ? { ...r, status: "succeeded" as const, testAccuracy: 0.935, seconds: 9 } : r,
    );
    const close = buildReport({ ...input, runs }).comparison!;
    expect(close.best).toBe("relu");
    expect(close.second).toBe("tanh");
    expect(close.difference).toBeCloseTo(0.94 - 0.9075, 10);
    const spread = Math.sqrt(2e-4 + (0.935 - 0.88) ** 2 / 2);
    expect(close.spread).toBeCloseTo(spread, 10);
    expect(close.separated).toBe(false);
    expect(close.pairedWins).toEqual({ best: 2, ties: 0, of: 2 });
    expect(close.statement).toContain("smaller than their spread");

    // relu far ahead of sigmoid once tanh is gone.
    const apart = buildReport({ ...input, runs: runs.filter((r) => r.variantIndex !== 2) }).comparison!;
    expect(apart).toMatchObject({ best: "relu", second: "sigmoid", separated: true });
    expect(apart.statement).toContain("larger than their spread");
  });

  it("counts paired ties and does not call a leaky unit that is never positive dead", () => {
    const input = fakeInput();
    const spec = {
      ...input.experiment.spec,
      variants: [{ activation: "relu" as const }, { activation: "leaky_relu" as const, alpha: 0.01 }],
    };
    // Keep relu's runs (variant 1 in the fake) as variant 0, and copy them as leaky_relu with repeat 1 lower.
    const relu = input.runs.filter((r) => r.variantIndex === 1).map((r) => ({ ...r, variantIndex: 0 }));
    const leaky = relu.map((r) => ({
      ...r,
      id: `${r.id}-leaky`,
      variantIndex: 1,
      testAccuracy: r.repeat === 1 ? 0.9 : r.testAccuracy,
    }));
    const metrics = input.metrics.flatMap((m) => {
      const run = relu.find((r) => r.id === m.runId);
      return run ? [m, { ...m, runId: `${m.runId}-leaky` }] : [];
    });
    const report = buildReport({
      experiment: { ...input.experiment, spec },
      runs: [...relu, ...leaky],
      metrics,
    });
    expect(report.comparison?.pairedWins).toEqual({ best: 1, ties: 1, of: 2 });
    expect(report.comparison?.statement).toContain("relu wins 1, ties 1 of 2 paired repeats");
    expect(report.variants[0]!.verdict).toContain("10% of units dead");
    expect(report.variants[1]!.verdict).toContain(
      "10% of units never positive (the negative slope keeps them learning)",
    );
    expect(report.variants[1]!.verdict).not.toContain("dead");
  });

  it("says a net at chance with small gradients everywhere is stuck, not vanishing", () => {
    const input = fakeInput();
    const metrics = input.metrics.map((m) =>
      input.runs.find((r) => r.id === m.runId)?.variantIndex === 0
        ? { ...m, gradNorms: [0.011, 0.0066, 0.0062, 0.0063, 0.0073] }
        : m,
    );
    expect(buildReport({ ...input, metrics }).variants[0]!.verdict).toBe(
      "did not learn: 12.0% after 3 epochs (chance is 10%); gradient reaches the first layer (first/last 1.5); " +
        "every layer's gradient is small (largest 1.1e-2): stuck near its starting point",
    );
  });

  it("groups the runs by what trained them (code, engine, Node, CPU), counting workers and hosts", () => {
    const input = fakeInput();
    const report = buildReport(input);
    const succeeded = input.runs.filter((r) => r.status === "succeeded").length;
    expect(report.provenance).toEqual([
      { ...SETUP, runs: succeeded, workers: 2, hosts: ["h1"] },
      { ...NATIVE, runs: input.runs.length - succeeded, workers: 1, hosts: ["h2"] },
    ]);
    const md = renderReportMarkdown(report);
    expect(md).toContain(
      "**Provenance:** the runs were trained 2 different ways; compare numbers within one.",
    );
    expect(md).toContain(
      `- ${succeeded} runs: actlab 0.1.0 @ 0123456789ab; wasm 4.22.0; Node v24.11.0 on linux-x64; Example CPU @ 3.0GHz (2 cores); 2 workers on h1`,
    );
    expect(md).toContain("native 0.1.0 + OpenBLAS 0.3.29 (Haswell, 1 thread)");
    expect(md).toContain("@ 0123456789ab (uncommitted changes)");
    const untracked = buildReport({ ...input, runs: input.runs.map((r) => ({ ...r, provenance: null })) });
    expect(untracked.provenance).toEqual([]);
    expect(renderReportMarkdown(untracked)).not.toContain("Provenance");
  });

  it("renders Markdown with one row per variant", () => {
    const md = renderReportMarkdown(buildReport(fakeInput()));
    expect(md).toContain(
      "| relu | 2 | 94.00% ± 1.41 | 94.1% (Keras, 1000 ep) | 2 | 21 s (7.0 s/ep) | 5.0e-1 | 10.0% |",
    );
    expect(md).toContain("| sigmoid | 2 | 12.00% ± 1.41 | — | never |");
    expect(md).toContain("| tanh | 1/2 | 88.00% | 93.2% (Keras, 1000 ep) | never |");
    expect(md).toContain("**Two best:** relu (94.00%) leads tanh (88.00%) by 6.00 points");
  });
});

describe("GET /v1/experiments/:id/report", () => {
  let t: TestApi;
  let experimentId: string;
  let expected: ReturnType<typeof buildReport>;

  beforeAll(async () => {
    t = await startTestApi("report");
    const input = fakeInput();
    const { db } = t.database;
    const exp = input.experiment;
    await db.experiment.create({
      data: {
        id: exp.id,
        tenantId: t.tenantA,
        name: exp.name,
        spec: exp.spec,
        status: exp.status,
        createdAt: exp.createdAt,
        startedAt: exp.startedAt,
      },
    });
    for (const r of input.runs) {
      await db.run.create({
        data: {
          ...r,
          provenance: r.provenance ?? undefined,
          experimentId: exp.id,
          variant: exp.spec.variants[r.variantIndex]!,
          seed: r.repeat,
          device: "cpu",
          epochs: 3,
        },
      });
    }
    await db.epochMetric.createMany({
      data: input.metrics.map((m) => ({
        ...m,
        gradNorms: [...m.gradNorms],
        deadFraction: [...m.deadFraction],
        saturatedFraction: [...m.saturatedFraction],
        trainLoss: 1,
        trainAccuracy: m.testAccuracy,
        testLoss: 1 - m.testAccuracy,
        preluAlphaMean: [],
        seconds: 7,
      })),
    });
    experimentId = exp.id;
    expected = buildReport(input);
  });
  afterAll(async () => t?.close());

  it("answers JSON built from the stored rows", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${experimentId}/report`,
      headers: bearer(t.keyA),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it("answers Markdown for Accept: text/markdown and ?format=markdown", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${experimentId}/report`,
      headers: { ...bearer(t.keyA), accept: "text/markdown" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/markdown; charset=utf-8");
    expect(res.body).toBe(renderReportMarkdown(expected));
    expect(res.body).toContain("gradient vanishes: first layer 10⁻³ of last");
    const q = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${experimentId}/report?format=markdown`,
      headers: bearer(t.keyA),
    });
    expect(q.body).toBe(res.body);
  });

  it("is 404 for another tenant, as for an experiment that does not exist, and 401 without a key", async () => {
    const theirs = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${experimentId}/report`,
      headers: { ...bearer(t.keyB), accept: "text/markdown" },
    });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(theirs.body).not.toContain("relu");
    const missing = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${randomUUID()}/report`,
      headers: bearer(t.keyA),
    });
    expect(missing.statusCode).toBe(404);
    const anonymous = await t.app.inject({ method: "GET", url: `/v1/experiments/${experimentId}/report` });
    expect(anonymous.statusCode).toBe(401);
  });

  it("npm run report prints the same Markdown from the database", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--conditions=source", "apps/api/src/cli/report.ts", experimentId],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: t.database.url } },
    );
    expect(stdout).toBe(renderReportMarkdown(expected));
  });
});
