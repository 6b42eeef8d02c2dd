// The `actlab` command against the real API (listening on a port), real Postgres and Redis and a
// real worker process training tiny networks: login, submit (spec file, preset, --set), watch with
// progress bars in a pseudo-terminal, wait's exit codes, show/ls/report, cancel, Ctrl-C, problem
// details on errors, and the event stream resuming with Last-Event-ID across a dropped connection.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ZExperiment,
  ZExperimentList,
  ZExperimentWithVerdicts,
  ZMetricsResponse,
  ZProblem,
  ZReport,
} from "@actlab/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApi } from "../../apps/api/src/__tests__/helpers.js";
import { runCli, runCliInTerminal, startCli } from "../../apps/cli/src/__tests__/run.js";
import { type ApiWithWorker, startApiWithWorker } from "./stack.js";

let stack: ApiWithWorker;
let api: TestApi;
let apiUrl: string;
let configDir: string;
/** The environment of a logged-out user who points the CLI at the test API. */
let bare: Record<string, string>;
/** …and of one whose key is in ACTLAB_API_KEY. */
let user: Record<string, string>;

/** Tiny, fast runs: two variants, 200 samples, 2 hidden layers of 8 units. */
const TINY = [
  "--set",
  "dataset.samples=200",
  "--set",
  "model.hiddenLayers=2",
  "--set",
  "model.units=8",
  "--set",
  'variants=[{"activation":"relu"},{"activation":"tanh"}]',
  "--set",
  "training.repeats=1",
  "--set",
  "training.batchSize=50",
];

/**
 * Sets for runs that must still be training when the test acts on them: on the native engine a
 * tiny run's epoch takes ~4 ms, so 200 epochs ended before a cancel (CI: relu succeeded, the
 * experiment was partial, not canceled); 1000 epochs of 2,000 samples take about a minute.
 */
const LONG = ["training.epochs=1000", "dataset.samples=2000"];

/** `actlab submit --preset chapter8-keras` with TINY and these `--set`s. */
const submitTiny = (...sets: string[]) => [
  "submit",
  "--preset",
  "chapter8-keras",
  ...TINY,
  ...sets.flatMap((s) => ["--set", s]),
];

beforeAll(async () => {
  stack = await startApiWithWorker("cli");
  api = stack.api;
  await api.app.listen({ port: 0, host: "127.0.0.1" });
  const address = api.app.server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  apiUrl = `http://127.0.0.1:${address.port}`;
  configDir = mkdtempSync(join(tmpdir(), "actlab-cli-config-"));
  bare = { ACTLAB_API_URL: apiUrl, ACTLAB_CONFIG_DIR: configDir };
  user = { ...bare, ACTLAB_API_KEY: api.keyA };
});

afterAll(async () => stack?.close());

describe("actlab login", () => {
  it("refuses a wrong key with the API's problem and stores nothing", async () => {
    const r = await runCli(["login"], { env: bare, input: "not-a-key-of-ours\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*unknown or revoked.*\(HTTP 401\)/);
    expect(() => statSync(join(configDir, "config.json"))).toThrow();
  });

  it("stores a piped key with the API's address in a config file only its owner can read", async () => {
    const r = await runCli(["login"], { env: bare, input: `${api.keyA}\n` });
    expect(r.code, r.stderr).toBe(0);
    const file = join(configDir, "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ apiUrl, apiKey: api.keyA });
    // …and later commands use it without ACTLAB_API_KEY.
    const ls = await runCli(["ls", "--json"], { env: bare });
    expect(ls.code, ls.stderr).toBe(0);
    ZExperimentList.parse(JSON.parse(ls.stdout));
  });

  it("never sends the stored key to another API", async () => {
    const r = await runCli(["ls", "--api-url", "http://127.0.0.1:9"], {
      env: { ACTLAB_CONFIG_DIR: configDir },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no API key for http://127.0.0.1:9");
  });
});

describe("actlab submit", () => {
  it("prints each bad field of a refused spec and exits 1; --json prints the problem itself", async () => {
    const args = [
      "submit",
      "--preset",
      "chapter8-keras",
      "--set",
      "training.epochs=0",
      "--set",
      "model.units=-3",
    ];
    const r = await runCli(args, { env: user });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(HTTP 400)");
    expect(r.stderr).toMatch(/training\.epochs: /);
    expect(r.stderr).toMatch(/model\.units: /);
    const j = await runCli([...args, "--json"], { env: user });
    expect(j.code).toBe(1);
    const problem = ZProblem.parse(JSON.parse(j.stderr));
    expect(problem.status).toBe(400);
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(["model.units", "training.epochs"]);
    const list = ZExperimentList.parse(JSON.parse((await runCli(["ls", "--json"], { env: user })).stdout));
    expect(list.items).toHaveLength(0);
  });

  it("refuses a spec file that is not JSON before calling the API (exit 2)", async () => {
    const file = join(configDir, "broken.json");
    writeFileSync(file, "{ nope");
    const r = await runCli(["submit", file], { env: user });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not JSON");
  });

  it("--preset … --watch draws one progress bar per run in a terminal, then the summary, and exits 0", async () => {
    const r = await runCliInTerminal([...submitTiny("training.epochs=3"), "--name", "cli watch", "--watch"], {
      env: user,
    });
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain("watching (Ctrl-C stops watching, not training)");
    // cli-progress's bars: both runs reach 3/3 epochs with an accuracy.
    expect(r.screen).toMatch(/relu #0\s+█+\s+3\/3 epochs \| acc\s+\d+\.\d% \| succeeded/);
    expect(r.screen).toMatch(/tanh #0\s+░+\s+0\/3 epochs \| acc\s+–\s+\| queued/);
    expect(r.screen).toMatch(/tanh #0\s+█+\s+3\/3 epochs \| acc\s+\d+\.\d%/);
    expect(r.screen).toMatch(/░/); // a bar drawn while unfinished
    expect(r.screen).toContain("summary per variant");
  });

  it("submits a spec file, and wait exits 0 once it succeeded; show, ls and report describe it", async () => {
    const file = join(configDir, "spec.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "from a file",
        dataset: { samples: 200 },
        model: { hiddenLayers: 2, units: 8 },
        variants: [{ activation: "sigmoid" }],
        training: { epochs: 2, repeats: 1, batchSize: 50 },
      }),
    );
    const submitted = await runCli(["submit", file, "--json"], { env: user });
    expect(submitted.code, submitted.stderr).toBe(0);
    const { id } = ZExperiment.parse(JSON.parse(submitted.stdout));

    const waited = await runCli(["wait", id, "--interval", "0.3"], { env: user });
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout.trim()).toBe(`${id}: succeeded`);

    const shown = await runCli(["show", id], { env: user });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("from a file");
    expect(shown.stdout).toMatch(/sigmoid #0\s*│\s*succeeded\s*│\s*2\/2/);
    const json = ZExperimentWithVerdicts.parse(
      JSON.parse((await runCli(["show", id, "--json"], { env: user })).stdout),
    );
    expect(json.status).toBe("succeeded");

    const ls = await runCli(["ls", "--status", "succeeded"], { env: user });
    expect(ls.stdout).toContain(id);

    const md = await runCli(["report", id], { env: user });
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^# /m);
    expect(md.stdout).toContain("sigmoid");
    const report = ZReport.parse(JSON.parse((await runCli(["report", id, "--json"], { env: user })).stdout));
    expect(report.experiment.id).toBe(id);

    // export: the API's CSV as it streams it (a header + one row per epoch of the one run), to stdout or a file.
    const csv = await runCli(["export", id, "--csv"], { env: user });
    expect(csv.code, csv.stderr).toBe(0);
    const rows = csv.stdout.trim().split(/\r?\n/);
    expect(rows[0]).toMatch(/^experimentId,runId,/);
    expect(rows).toHaveLength(3);
    const out = join(configDir, "metrics.csv");
    const toFile = await runCli(["export", id, "--csv", "-o", out], { env: user });
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(csv.stdout);
    const series = ZMetricsResponse.parse(
      JSON.parse((await runCli(["export", id, "--json"], { env: user })).stdout),
    );
    expect(series.runs[0]!.series.epoch).toEqual([1, 2]);
    expect((await runCli(["export", id], { env: user })).code).toBe(2);
  });

  it("show states the verdicts in the report's words, and --json carries them", async () => {
    const sub = await runCli(
      [
        ...submitTiny(
          'variants=[{"activation":"sigmoid"},{"activation":"relu"}]',
          "training.repeats=2",
          "training.epochs=2",
        ),
        "--json",
      ],
      { env: user },
    );
    expect(sub.code, sub.stderr).toBe(0);
    const { id } = ZExperiment.parse(JSON.parse(sub.stdout));
    expect((await runCli(["wait", id, "--interval", "0.3"], { env: user })).code).toBe(0);

    const json = ZExperimentWithVerdicts.parse(
      JSON.parse((await runCli(["show", id, "--json"], { env: user })).stdout),
    );
    expect(json.verdicts).toHaveLength(1);
    const [v] = json.verdicts;
    expect(v!.comparisons).toHaveLength(1);
    expect(v!.comparisons[0]).toMatch(
      /^(sigmoid and relu do not differ|relu beats sigmoid|sigmoid beats relu): [+−]\d+\.\d\d points, 95% CI /,
    );
    expect(v!.leaderStatement).toBe(
      v!.leader
        ? `${v!.leader} leads, significantly better than every other variant (Holm-adjusted p < 0.05).`
        : "no variant is significantly better than every other.",
    );
    expect(v!.gradients.map((g) => g.variant)).toEqual(["sigmoid", "relu"]);
    for (const g of v!.gradients) expect(g.verdict).toMatch(/^the gradient /);

    const shown = await runCli(["show", id], { env: user });
    expect(shown.code, shown.stderr).toBe(0);
    const text = shown.stdout.slice(shown.stdout.indexOf("\nverdicts"));
    expect(text).toContain(`\n  ${v!.leaderStatement}\n`);
    expect(text).toContain(`\n  ${v!.comparisons[0]}\n`);
    for (const g of v!.gradients) expect(text).toContain(`\n  ${g.variant}: ${g.verdict}`);
  });

  it("an unknown id: the API's 404 problem and exit 1", async () => {
    const r = await runCli(["show", "00000000-0000-4000-8000-000000000000"], { env: user });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*\(HTTP 404\)/);
  });
});

describe("Ctrl-C, cancel and wait", () => {
  it("Ctrl-C stops watching, not training; cancel stops it and wait then exits 1", async () => {
    const watch = startCli([...submitTiny(...LONG), "--watch"], {
      env: user,
    });
    await watch.waitForOutput(({ stderr }) => /relu #0: running/.test(stderr));
    const id = /submitted (\S+):/.exec(watch.stderr())![1]!;
    watch.child.kill("SIGINT");
    const stopped = await watch.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain(`stopped watching; ${id} keeps training`);
    const still = ZExperimentWithVerdicts.parse(
      JSON.parse((await runCli(["show", id, "--json"], { env: user })).stdout),
    );
    expect(still.status).toBe("running");

    const canceled = await runCli(["cancel", id], { env: user });
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(canceled.stdout).toMatch(new RegExp(`^${id}: `));
    const waited = await runCli(["wait", id, "--interval", "0.3", "--json"], { env: user });
    expect(waited.code).toBe(1);
    expect(ZExperiment.parse(JSON.parse(waited.stdout)).status).toBe("canceled");
  });

  it("wait --timeout gives up with exit 3 while the experiment still trains", async () => {
    const sub = await runCli([...submitTiny(...LONG), "--json"], {
      env: user,
    });
    const { id } = ZExperiment.parse(JSON.parse(sub.stdout));
    const r = await runCli(["wait", id, "--interval", "0.2", "--timeout", "0.5"], { env: user });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${id}: still`);
    await runCli(["cancel", id], { env: user });
  });
});

describe("the event stream across a dropped connection", () => {
  let proxy: Server;
  const requests: string[] = [];

  /** A TCP proxy to the API that cuts the connection of the first event stream once an epoch event went through. */
  beforeAll(async () => {
    const target = new URL(apiUrl);
    let dropped = false;
    proxy = createServer((client) => {
      const upstream = tcpConnect(Number(target.port), target.hostname);
      client.on("data", (d) => {
        // Request heads (undici may send several requests over one kept-alive connection).
        const text = d.toString("latin1");
        if (/^(GET|POST|DELETE) /.test(text)) requests.push(text.split("\r\n\r\n")[0]!);
        upstream.write(d);
      });
      upstream.on("data", (d: Buffer) => {
        const at = dropped ? -1 : d.indexOf("event: run.epoch");
        if (at < 0) {
          client.write(d);
          return;
        }
        // Up to the end of that event and a few bytes of the next one, then the connection dies.
        dropped = true;
        const end = d.indexOf("\n\n", at);
        client.write(d.subarray(0, end + 2 + 12), () => {
          client.destroy();
          upstream.destroy();
        });
      });
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  });
  afterAll(() => new Promise<void>((r) => proxy.close(() => r())));

  it("reconnects with Last-Event-ID and sees every event exactly once", async () => {
    const sub = await runCli([...submitTiny("training.epochs=2"), "--json"], {
      env: user,
    });
    const { id } = ZExperiment.parse(JSON.parse(sub.stdout));
    expect((await runCli(["wait", id, "--interval", "0.3"], { env: user })).code).toBe(0);

    const address = proxy.address();
    if (!address || typeof address === "string") throw new Error("no proxy port");
    const watched = await runCli(["watch", id, "--json", "--api-url", `http://127.0.0.1:${address.port}`], {
      env: { ACTLAB_CONFIG_DIR: configDir, ACTLAB_API_KEY: api.keyA },
    });
    expect(watched.code, watched.stderr).toBe(0);
    const events = watched.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; type: string });
    const stored = await api.database.db.experimentEvent.findMany({
      where: { experimentId: id },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => e.type)).toEqual(stored.map((e) => e.type));
    expect(events.map((e) => Number(e.id))).toEqual(stored.map((e) => Number(e.id)));
    const streams = requests.filter((r) => r.startsWith(`GET /v1/experiments/${id}/events`));
    expect(streams.length, requests.join("\n\n")).toBe(2);
    expect(streams[0]).not.toMatch(/last-event-id/i);
    const resumedAfter = /last-event-id: (\d+)/i.exec(streams[1]!)?.[1];
    expect(Number(resumedAfter)).toBeGreaterThan(0);
    expect(Number(resumedAfter)).toBeLessThan(Number(events.at(-1)!.id));
  });
});
