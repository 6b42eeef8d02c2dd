import { ACTIVATION_NAMES, DATASET_NAMES, LIMITS, PRESETS, ZActivationName } from "@actlab/contracts";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../errors.js";
import { loadTrainer } from "../../services/models.js";
import { BEARER, COMMON_ERRORS, problemResponses } from "../schemas.js";

const ZActivationsQuery = z.object({
  activation: ZActivationName.optional().describe("only this activation"),
  from: z.coerce.number().min(-100).max(100).default(-6),
  to: z.coerce.number().min(-100).max(100).default(6),
  points: z.coerce.number().int().min(2).max(2001).default(241),
  // Bounded here because prelu's plotted `alpha` is not range-checked by the catalog: a huge one
  // made f(x) infinite and the response unserialisable (a 500). The catalog checks the rest.
  alpha: z.coerce
    .number()
    .min(-1000)
    .max(1000)
    .optional()
    .describe("leaky_relu / elu slope, or a prelu slope to plot"),
  alphaInit: z.coerce.number().min(-1000).max(1000).optional(),
  lower: z.coerce.number().min(-1000).max(1000).optional(),
  upper: z.coerce.number().min(-1000).max(1000).optional(),
});

const ZParam = z.object({
  name: z.string(),
  default: z.number(),
  min: z.number(),
  max: z.number(),
  description: z.string(),
});

const ZActivations = z.object({
  activations: z.array(
    z.object({
      name: ZActivationName,
      title: z.string(),
      formulaLatex: z.string(),
      derivativeLatex: z.string(),
      params: z.array(ZParam),
      learnable: z.boolean(),
      reluLike: z.boolean(),
      saturating: z.boolean(),
      samples: z.object({ x: z.array(z.number()), f: z.array(z.number()), df: z.array(z.number()) }),
    }),
  ),
});

const ZDatasets = z.object({
  datasets: z.array(
    z.object({
      name: z.enum(DATASET_NAMES),
      available: z.boolean(),
      samples: z.number().int().describe("images on this install"),
      maxSamples: z.number().int().describe("the most an experiment may sample from it"),
      detail: z.string(),
    }),
  ),
});

const ZPresets = z.object({
  presets: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      description: z.string(),
      spec: z.record(z.string(), z.unknown()),
    }),
  ),
});

/** Dataset availability changes rarely and counting loads files: cache it for a while. */
const DATASETS_TTL_MS = 5 * 60_000;

const catalog: FastifyPluginAsyncZod = async (app) => {
  let datasets: { at: number; value: Promise<z.infer<typeof ZDatasets>> } | null = null;

  app.get(
    "/activations",
    {
      schema: {
        summary: "The activation catalog: formulas, parameters, sampled f and f′ for plots",
        tags: ["catalog"],
        security: BEARER,
        querystring: ZActivationsQuery,
        response: { 200: ZActivations, ...problemResponses(...COMMON_ERRORS) },
      },
    },
    async (request) => {
      const { activation, from, to, points, ...given } = request.query;
      if (from >= to) {
        throw new AppError("validation", "from must be below to", {
          errors: [{ path: "from", message: "must be below `to`" }],
        });
      }
      const t = await loadTrainer();
      const names = activation ? [activation] : ACTIVATION_NAMES;
      const out = names.map((name) => {
        const info = t.getActivation(name);
        // Only the parameters this activation has (prelu also plots a given alpha).
        const params = Object.fromEntries(
          Object.entries(given).filter(
            ([k, v]) =>
              v !== undefined &&
              (info.params.some((p) => p.name === k) || (name === "prelu" && k === "alpha")),
          ),
        ) as Record<string, number>;
        let samples: { x: number[]; f: number[]; df: number[] };
        try {
          samples = t.sampleActivation(name, params, { from, to, points });
        } catch (err) {
          throw new AppError("validation", (err as Error).message, {
            errors: [{ path: Object.keys(params)[0] ?? "activation", message: (err as Error).message }],
          });
        }
        return {
          name: info.name,
          title: info.title,
          formulaLatex: info.formulaLatex,
          derivativeLatex: info.derivativeLatex,
          params: info.params,
          learnable: info.learnable,
          reluLike: info.reluLike,
          saturating: info.saturating,
          samples,
        };
      });
      return { activations: out };
    },
  );

  app.get(
    "/datasets",
    {
      schema: {
        summary: "Datasets this install can train on, and their sizes",
        tags: ["catalog"],
        security: BEARER,
        response: { 200: ZDatasets, ...problemResponses(...COMMON_ERRORS) },
      },
    },
    async () => {
      if (!datasets || datasets.at < Date.now() - DATASETS_TTL_MS) {
        const value = (async () => {
          const t = await loadTrainer();
          const opts: { mnistFullDir?: string; fashionMnistDir?: string } = {};
          if (app.config.DATA_DIR) opts.mnistFullDir = app.config.DATA_DIR;
          if (app.config.FASHION_MNIST_DIR) opts.fashionMnistDir = app.config.FASHION_MNIST_DIR;
          const list = await t.listDatasets(opts);
          return {
            datasets: list.map((d) => ({
              name: d.name as (typeof DATASET_NAMES)[number],
              available: d.available,
              samples: d.samples,
              maxSamples: Math.min(d.samples, LIMITS.maxSamples),
              detail: d.detail,
            })),
          };
        })();
        datasets = { at: Date.now(), value };
        value.catch(() => {
          datasets = null;
        });
      }
      return datasets.value;
    },
  );

  app.get(
    "/presets",
    {
      schema: {
        summary: "Ready-made experiments, including the textbook chapter's",
        tags: ["catalog"],
        security: BEARER,
        response: { 200: ZPresets, ...problemResponses(...COMMON_ERRORS) },
      },
    },
    async () => ({ presets: PRESETS.map((p) => ({ ...p, spec: p.spec as Record<string, unknown> })) }),
  );
};

export default catalog;
