import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { resolveExperimentRequest, type TExperimentSpec } from "@actlab/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startTestApi, type TestApi } from "../../__tests__/helpers.js";
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
      cellIndex: 0,
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
      "learns: 94.0%, 90% by epoch 2; the gradient reaches the first layer (first/last 0.50); 10% of units dead",
    );

    // Ratios 1e-3 and 1e-3 (2e-3 / 2): geometric mean 1e-3.
    expect(sigmoid!.gradNormRatio.geomean).toBeCloseTo(1e-3, 10);
    expect(sigmoid!.gradNorms[0]).toBeCloseTo(Math.sqrt(2) * 1e-3, 10);
    expect(sigmoid!.deadFraction).toBeNull();
    expect(sigmoid!.epochsTo90).toEqual({ mean: null, reached: 0, of: 2, values: [null, null] });
    expect(sigmoid!.verdict).toBe(
      "did not learn: 12.0% after 3 epochs (chance is 10%); the gradient vanishes before it reaches the first layer (first layer 10⁻³ of last)",
    );
    expect(sigmoid!.gradientVerdict).toBe(
      "the gradient vanishes before it reaches the first layer (first layer 10⁻³ of last)",
    );

    // The running tanh run is left out of the means; the finished one never reached 90%.
    expect(tanh!.runs).toEqual({ total: 2, succeeded: 1, byStatus: { succeeded: 1, running: 1 } });
    // One finished run: the exact binomial interval of 1,760 of 2,000 (SciPy binomtest, exact).
    expect(tanh!.testAccuracy).toMatchObject({ mean: 0.88, std: null, values: [0.88] });
    expect(tanh!.testAccuracy.ci95![0]).toBeCloseTo(0.8649486677852104, 9);
    expect(tanh!.testAccuracy.ci95![1]).toBeCloseTo(0.8939269446290602, 9);
    expect(tanh!.verdict).toMatch(/^learns slowly: 88\.0% after 3 epochs, never 90%; the gradient reaches/);
    expect(report.notes[0]).toBe("1 of 6 runs are not finished: the numbers cover finished runs only.");

    // tanh has one finished repeat: its pairs cannot be tested; relu vs sigmoid differ by 0.82 in both.
    expect(report.comparisons.map((c) => [c.a.activation, c.b.activation, c.test])).toEqual([
      ["sigmoid", "relu", "paired-t"],
      ["sigmoid", "tanh", "untestable"],
      ["relu", "tanh", "untestable"],
    ]);
    expect(report.comparisons[1]!.statement).toBe(
      "sigmoid and tanh cannot be tested: 1 shared finished repeat, at least 2 needed (−77.00 points)",
    );
    expect(report.cells).toEqual([
      {
        cell: {},
        label: "",
        leader: null,
        statement: "no variant is significantly better than every other.",
      },
    ]);
    expect(report.experiment.wallSeconds).toBeNull();
  });

  it("compares every pair on its shared repeats: paired t, Holm over the experiment, leader only when significant", () => {
    const input = fakeInput();
    // Make tanh's running run a finished 0.935: sigmoid 0.11/0.13, relu 0.93/0.95, tanh 0.88/0.935.
    const runs = input.runs.map((r) =>
      r.status === "running" ? { ...r, status: "succeeded" as const, testAccuracy: 0.935, seconds: 9 } : r,
    );
    const report = buildReport({ ...input, runs });
    const [sigRelu, sigTanh, reluTanh] = report.comparisons;
    // SciPy 1.17.1 ttest_rel: sigmoid − tanh p = 0.014144778000630135, CI −1.00986…−0.56514;
    // relu − tanh p = 0.3144528418445166, CI −0.18986…+0.25486. sigmoid − relu is −0.82 in both
    // repeats: no spread, p = 0.
    expect(sigTanh!.pValue).toBeCloseTo(0.014144778000630135, 10);
    expect(sigTanh!.ci95![0]).toBeCloseTo(-1.0098585828830575, 10);
    expect(sigTanh!.ci95![1]).toBeCloseTo(-0.5651414171169428, 10);
    expect(reluTanh!.pValue).toBeCloseTo(0.3144528418445166, 10);
    expect(reluTanh!.meanDifference).toBeCloseTo(0.0325, 10);
    expect(sigRelu!.pValue).toBe(0);
    // Holm over the three: 0 × 3, 0.01414 × 2, 0.31445 × 1.
    expect(sigRelu!.pAdjusted).toBe(0);
    expect(sigTanh!.pAdjusted).toBeCloseTo(2 * 0.014144778000630135, 10);
    expect(reluTanh!.pAdjusted).toBeCloseTo(0.3144528418445166, 10);
    expect(report.comparisons.map((c) => c.significant)).toEqual([true, true, false]);
    expect(sigTanh!.statement).toBe(
      "tanh beats sigmoid: +78.75 points, 95% CI +56.51…+100.99, p = 0.014 (Holm 0.028)",
    );
    expect(reluTanh!.statement).toBe(
      "relu and tanh do not differ: +3.25 points, 95% CI −18.99…+25.49, p = 0.31 (Holm 0.31)",
    );
    // relu has the best mean but does not beat tanh: no leader.
    expect(report.cells[0]!.leader).toBeNull();
    // Without tanh, relu beats the only other variant: it leads.
    const two = buildReport({ ...input, runs: runs.filter((r) => r.variantIndex !== 2) });
    expect(two.cells[0]!.leader).toBe("relu");
    expect(two.cells[0]!.statement).toContain("relu leads, significantly better than every other variant");
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
    // relu − leaky_relu: 0 and +0.05 over the two repeats (SciPy ttest_rel: p = 0.5).
    expect(report.comparisons[0]!.pValue).toBeCloseTo(0.5, 10);
    expect(report.comparisons[0]!.significant).toBe(false);
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
      "did not learn: 12.0% after 3 epochs (chance is 10%); the gradient reaches the first layer (first/last 1.5); " +
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
      "| relu | 2 | 94.00% ± 1.41 | 81.3…106.7 | 94.1% (Keras, 1000 ep) | 2 | 21 s (7.0 s/ep) | 5.0e-1 | 10.0% |",
    );
    expect(md).toContain("| sigmoid | 2 | 12.00% ± 1.41 | −0.7…24.7 | — | never |".replace("−", "-"));
    expect(md).toContain("| tanh | 1/2 | 88.00% | 86.5…89.4 | 93.2% (Keras, 1000 ep) | never |");
    expect(md).toContain("## Which differences are real");
    expect(md).toContain("- relu and tanh cannot be tested: 1 shared finished repeat");
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
    const res = await request(t, "GET", `/v1/experiments/${experimentId}/report`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it("answers Markdown for Accept: text/markdown and ?format=markdown", async () => {
    const res = await request(t, "GET", `/v1/experiments/${experimentId}/report`, {
      headers: { accept: "text/markdown" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/markdown; charset=utf-8");
    expect(res.body).toBe(renderReportMarkdown(expected));
    expect(res.body).toContain(
      "the gradient vanishes before it reaches the first layer (first layer 10⁻³ of last)",
    );
    const q = await request(t, "GET", `/v1/experiments/${experimentId}/report?format=markdown`);
    expect(q.body).toBe(res.body);
  });

  it("is 404 for another tenant, as for an experiment that does not exist, and 401 without a key", async () => {
    const theirs = await request(t, "GET", `/v1/experiments/${experimentId}/report`, {
      key: t.keyB,
      headers: { accept: "text/markdown" },
    });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(theirs.body).not.toContain("relu");
    const missing = await request(t, "GET", `/v1/experiments/${randomUUID()}/report`);
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
