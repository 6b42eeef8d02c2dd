import {
  ACTIVATION_NAMES,
  activationDef,
  CATALOG_PARAMS,
  describeActivation,
  PRESETS,
  resolveVariant,
  type TActivationName,
  ZActivationCatalog,
  ZActivationName,
  ZDatasetList,
  ZPresetList,
} from "@actlab/contracts";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../errors.js";
import { loadTrainer } from "../../services/models.js";
import { BEARER, COMMON_ERRORS, problemResponses } from "../schemas.js";

/**
 * Every parameter some activation takes (or plots with), bounded here only so that a huge value
 * cannot make f(x) infinite and the response unserialisable (a 500, seen with prelu's plotted
 * `alpha`); each activation's own bounds are checked by its variant schema.
 */
const paramQuery = Object.fromEntries(
  [...CATALOG_PARAMS].map(([name, uses]) => [
    name,
    z.coerce
      .number()
      .min(-1000)
      .max(1000)
      .optional()
      .describe(
        [uses.variant.join(" / "), uses.plot.length ? `${uses.plot.join(" / ")} (plot only)` : ""]
          .filter(Boolean)
          .join("; "),
      ),
  ]),
);

const ZActivationsQuery = z.object({
  activation: ZActivationName.optional().describe("only this activation"),
  from: z.coerce.number().min(-100).max(100).default(-6),
  to: z.coerce.number().min(-100).max(100).default(6),
  points: z.coerce.number().int().min(2).max(2001).default(241),
  ...paramQuery,
});

/** The given values an activation takes: its variant parameters and its plot-only ones. */
function paramsFor(name: TActivationName, given: Record<string, number | undefined>) {
  const def = activationDef(name);
  const pick = (names: string[]) =>
    Object.fromEntries(names.flatMap((k) => (given[k] === undefined ? [] : [[k, given[k]]])));
  return {
    variant: pick(Object.keys(def.params)),
    plot: pick(Object.keys(def.plotParams ?? {})) as Record<string, number>,
  };
}

const catalog: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/activations",
    {
      schema: {
        operationId: "listActivations",
        summary: "The activation catalog: formulas, parameters, sampled f and f′ for plots",
        tags: ["catalog"],
        security: BEARER,
        querystring: ZActivationsQuery,
        response: {
          200: ZActivationCatalog.describe("every activation (or the one asked for) with sampled curves"),
          ...problemResponses(...COMMON_ERRORS),
        },
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
        const { variant, plot } = paramsFor(name, given);
        const resolved = resolveVariant({ activation: name, ...variant });
        if (!resolved.ok) {
          throw new AppError("validation", `invalid ${name} parameters`, { errors: resolved.issues });
        }
        return {
          ...describeActivation(name),
          samples: t.sampleActivation(resolved.variant, { from, to, points }, plot),
        };
      });
      return { activations: out };
    },
  );

  app.get(
    "/datasets",
    {
      schema: {
        operationId: "listDatasets",
        summary: "Datasets this install can train on, and their sizes",
        tags: ["catalog"],
        security: BEARER,
        response: {
          200: ZDatasetList.describe("each dataset, whether it is available, and its size"),
          ...problemResponses(...COMMON_ERRORS),
        },
      },
    },
    async () => app.datasets.list(),
  );

  app.get(
    "/presets",
    {
      schema: {
        operationId: "listPresets",
        summary: "Ready-made experiments, including the textbook chapter's",
        tags: ["catalog"],
        security: BEARER,
        response: {
          200: ZPresetList.describe("the presets with their full specs"),
          ...problemResponses(...COMMON_ERRORS),
        },
      },
    },
    async () => ({ presets: PRESETS.map((p) => ({ ...p, spec: p.spec as Record<string, unknown> })) }),
  );
};

export default catalog;
