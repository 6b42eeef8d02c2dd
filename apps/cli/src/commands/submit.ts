import { randomUUID } from "node:crypto";
import { expectOk } from "@actlab/client";
import { type TExperiment, ZExperiment } from "@actlab/contracts";
import type { Context } from "../context.js";
import { EXIT, printJson } from "../output.js";
import { experimentDetail, isFinished } from "../render.js";
import { buildSubmitBody } from "../spec.js";
import { watchExperiment } from "../watch.js";
import { exitFor, getExperiment } from "./experiments.js";

export interface SubmitOptions {
  preset?: string;
  set?: string[];
  name?: string;
  idempotencyKey?: string;
  watch?: boolean;
}

export async function submitCommand(
  ctx: Context,
  file: string | undefined,
  opts: SubmitOptions,
  signal: AbortSignal,
) {
  const body = buildSubmitBody({ file, preset: opts.preset, set: opts.set, name: opts.name });
  const client = ctx.client();
  // A key per submission: if the answer is lost and the user runs the same command with the same
  // --idempotency-key, the API returns the first experiment instead of training it twice.
  const idempotencyKey = opts.idempotencyKey ?? randomUUID();
  const experiment = await expectOk(
    client.POST("/v1/experiments", {
      body: body as never, // the API validates it and names each bad field
      params: { header: { "idempotency-key": idempotencyKey } },
    }),
    ZExperiment,
    "experiment",
  );
  if (!opts.watch) {
    if (ctx.output.json) printJson(ctx.output, experiment);
    else ctx.output.out(`submitted ${experiment.id}: ${experiment.runs.length} runs ${experiment.status}`);
    return EXIT.ok;
  }
  if (!ctx.output.json)
    ctx.output.err(
      `submitted ${experiment.id}: ${experiment.runs.length} runs; watching (Ctrl-C stops watching, not training)`,
    );
  return follow(ctx, experiment, signal);
}

export async function watchCommand(ctx: Context, id: string, signal: AbortSignal) {
  const experiment = await getExperiment(ctx, id);
  if (isFinished(experiment.status) && !ctx.output.json) {
    ctx.output.out(experimentDetail(experiment));
    return exitFor(experiment.status);
  }
  return follow(ctx, experiment, signal);
}

/** Watches to the end, then prints the summary; exits like `actlab wait`. */
async function follow(ctx: Context, experiment: TExperiment, signal: AbortSignal): Promise<number> {
  const finished = await watchExperiment({
    client: ctx.client(),
    experiment,
    output: ctx.output,
    bars: Boolean(process.stderr.isTTY),
    signal,
  });
  if (!finished) {
    ctx.output.err(
      `stopped watching; ${experiment.id} keeps training (actlab watch ${experiment.id} to follow it again, actlab cancel ${experiment.id} to stop it)`,
    );
    return EXIT.interrupted;
  }
  const final = await getExperiment(ctx, experiment.id);
  if (!ctx.output.json) ctx.output.out(experimentDetail(final));
  return exitFor(final.status);
}
