import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { expectBody, expectOk } from "@actlab/client";
import {
  experimentVerdicts,
  type TExperiment,
  type TExperimentStatus,
  ZExperiment,
  ZExperimentList,
  ZMetricsResponse,
  ZPresetList,
  ZReport,
} from "@actlab/contracts";
import type { Context } from "../context.js";
import { EXIT, printJson, table, UsageError } from "../output.js";
import { experimentDetail, experimentList, isFinished } from "../render.js";
import { sleep } from "../sleep.js";

export async function getExperiment(ctx: Context, id: string): Promise<TExperiment> {
  return expectOk(
    ctx.client().GET("/v1/experiments/{id}", { params: { path: { id } } }),
    ZExperiment,
    "experiment",
  );
}

export async function listCommand(ctx: Context, opts: { status?: string; limit?: string; cursor?: string }) {
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError("--limit takes a whole number");
  const list = await expectOk(
    ctx.client().GET("/v1/experiments", {
      params: {
        query: {
          ...(opts.status ? { status: opts.status.split(",") as TExperimentStatus[] } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(opts.cursor ? { cursor: opts.cursor } : {}),
        },
      },
    }),
    ZExperimentList,
    "experiment list",
  );
  if (ctx.output.json) printJson(ctx.output, list);
  else {
    ctx.output.out(experimentList(list.items));
    if (list.nextCursor) ctx.output.out(`more: actlab ls --cursor ${list.nextCursor}`);
  }
  return EXIT.ok;
}

export async function showCommand(ctx: Context, id: string) {
  const e = await getExperiment(ctx, id);
  if (ctx.output.json)
    printJson(ctx.output, { ...e, verdicts: experimentVerdicts(e.summary, e.comparisons) });
  else ctx.output.out(experimentDetail(e));
  return EXIT.ok;
}

export async function reportCommand(ctx: Context, id: string) {
  const client = ctx.client();
  if (ctx.output.json) {
    const report = await expectOk(
      client.GET("/v1/experiments/{id}/report", { params: { path: { id }, query: { format: "json" } } }),
      ZReport,
      "report",
    );
    printJson(ctx.output, report);
  } else {
    const markdown = await expectBody(
      client.GET("/v1/experiments/{id}/report", {
        params: { path: { id }, query: { format: "markdown" } },
        parseAs: "text",
      }),
      "report",
    );
    ctx.output.out(String(markdown ?? ""));
  }
  return EXIT.ok;
}

export async function cancelCommand(ctx: Context, id: string) {
  const e = await expectOk(
    ctx.client().POST("/v1/experiments/{id}/cancel", { params: { path: { id } } }),
    ZExperiment,
    "experiment",
  );
  if (ctx.output.json) printJson(ctx.output, e);
  else {
    const canceled = e.runs.filter((r) => r.status === "canceled").length;
    ctx.output.out(`${e.id}: ${e.status} (${canceled} of ${e.runs.length} runs canceled)`);
  }
  return EXIT.ok;
}

/** Exit code of a finished experiment: 0 only when every run succeeded. */
export const exitFor = (status: TExperiment["status"]) => (status === "succeeded" ? EXIT.ok : EXIT.failed);

export async function waitCommand(
  ctx: Context,
  id: string,
  opts: { interval?: string; timeout?: string },
  signal: AbortSignal,
) {
  const intervalMs = Number(opts.interval ?? 2) * 1000;
  const timeoutMs = opts.timeout === undefined ? Number.POSITIVE_INFINITY : Number(opts.timeout) * 1000;
  if (!(intervalMs > 0) || !(timeoutMs > 0))
    throw new UsageError("--interval and --timeout take seconds > 0");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await getExperiment(ctx, id);
    if (isFinished(e.status)) {
      if (ctx.output.json) printJson(ctx.output, e);
      else ctx.output.out(`${e.id}: ${e.status}`);
      return exitFor(e.status);
    }
    if (Date.now() + intervalMs > deadline) {
      ctx.output.err(`${e.id}: still ${e.status} after ${opts.timeout} s`);
      return EXIT.timeout;
    }
    await sleep(intervalMs, signal);
    if (signal.aborted) return EXIT.interrupted;
  }
}

export async function presetsCommand(ctx: Context) {
  const list = await expectOk(ctx.client().GET("/v1/presets"), ZPresetList, "preset list");
  if (ctx.output.json) printJson(ctx.output, list);
  else
    ctx.output.out(
      table(
        ["preset", "what it is"],
        list.presets.map((p) => [p.id, `${p.title}: ${p.description}`]),
      ),
    );
  return EXIT.ok;
}

/**
 * `actlab export ID --csv`: GET /v1/experiments/:id/metrics.csv streamed to stdout or `--output`
 * (the API streams it too, so a long experiment never sits in memory); `--json`: the columnar
 * series of GET /v1/experiments/:id/metrics.
 */
export async function exportCommand(ctx: Context, id: string, opts: { csv?: boolean; output?: string }) {
  const client = ctx.client();
  if (Boolean(opts.csv) === ctx.output.json) throw new UsageError("choose one format: --csv or --json");
  const target = opts.output ? createWriteStream(opts.output) : process.stdout;
  if (ctx.output.json) {
    const metrics = await expectOk(
      client.GET("/v1/experiments/{id}/metrics", { params: { path: { id }, query: {} } }),
      ZMetricsResponse,
      "metrics",
    );
    target.write(`${JSON.stringify(metrics)}\n`);
  } else {
    const body = await expectBody(
      client.GET("/v1/experiments/{id}/metrics.csv", { params: { path: { id } }, parseAs: "stream" }),
      "metrics.csv",
    );
    await pipeline(Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>), target, {
      end: Boolean(opts.output),
    });
  }
  if (opts.output) {
    await new Promise<void>((resolve) =>
      target.writableFinished ? resolve() : target.once("finish", resolve),
    );
    ctx.output.err(`wrote ${opts.output}`);
  }
  return EXIT.ok;
}
