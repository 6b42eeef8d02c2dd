import { ZExperimentStatus, ZRun } from "@actlab/contracts";
import { z } from "zod";

/*
 * Response shapes the contracts package does not pin down (list pages, catalogs). They are
 * read tolerantly — unknown fields pass, optional ones may be missing — so a small change on
 * the API side degrades a screen instead of breaking it.
 */

export const ZExperimentListItem = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: ZExperimentStatus,
  createdAt: z.string(),
  startedAt: z.string().nullish(),
  finishedAt: z.string().nullish(),
  runs: z.array(ZRun).optional(),
  /** Counts of runs per status, if the API sends them instead of the runs. */
  runCounts: z.record(z.string(), z.number()).optional(),
  progress: z.looseObject({ epoch: z.number().optional(), epochs: z.number().optional() }).nullish(),
});
export type TExperimentListItem = z.infer<typeof ZExperimentListItem>;

const listKeys = ["items", "experiments", "data"] as const;

/** `{ items, nextCursor }` — also accepts `experiments`/`data` as the array's name. */
export const ZExperimentList = z.preprocess(
  (v) => {
    if (Array.isArray(v)) return { items: v, nextCursor: null };
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      const key = listKeys.find((k) => Array.isArray(o[k]));
      return { items: key ? o[key] : [], nextCursor: o["nextCursor"] ?? o["cursor"] ?? null };
    }
    return v;
  },
  z.object({ items: z.array(ZExperimentListItem), nextCursor: z.string().nullable() }),
);
export type TExperimentList = z.infer<typeof ZExperimentList>;

export const ZActivationParam = z.looseObject({
  name: z.string(),
  default: z.number(),
  min: z.number(),
  max: z.number(),
  description: z.string().optional(),
});
export type TActivationParam = z.infer<typeof ZActivationParam>;

const numbers = z.array(z.number().nullable());

/** One catalog entry; the samples may sit at top level or under `samples`/`sampled`. */
export const ZActivationInfo = z.preprocess(
  (v) => {
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    const s = (o["samples"] ?? o["sampled"] ?? o["sample"] ?? o) as Record<string, unknown>;
    return { ...o, x: s["x"], f: s["f"] ?? s["y"], df: s["df"] ?? s["dy"] };
  },
  z.looseObject({
    name: z.string(),
    title: z.string().optional(),
    description: z.string().optional(),
    formulaLatex: z.string().optional(),
    derivativeLatex: z.string().optional(),
    params: z.array(ZActivationParam).default([]),
    x: numbers,
    f: numbers,
    df: numbers,
  }),
);
export type TActivationInfo = z.infer<typeof ZActivationInfo>;

export const ZActivationCatalog = z.preprocess((v) => {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    return o["activations"] ?? o["items"] ?? o["data"] ?? v;
  }
  return v;
}, z.array(ZActivationInfo));

export const ZPresetInfo = z.looseObject({
  id: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  spec: z.record(z.string(), z.unknown()),
});
export type TPresetInfo = z.infer<typeof ZPresetInfo>;

export const ZPresetList = z.preprocess((v) => {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    return o["presets"] ?? o["items"] ?? v;
  }
  return v;
}, z.array(ZPresetInfo));

export const ZDatasetInfo = z.looseObject({
  name: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  samples: z.number().optional(),
  maxSamples: z.number().optional(),
  available: z.boolean().optional(),
  detail: z.string().optional(),
});
export type TDatasetInfo = z.infer<typeof ZDatasetInfo>;

export const ZDatasetList = z.preprocess((v) => {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    return o["datasets"] ?? o["items"] ?? v;
  }
  return v;
}, z.array(ZDatasetInfo));

export const ZPrediction = z.object({
  probabilities: z.array(z.array(z.number())),
  classes: z.array(z.number().int()),
});
export type TPrediction = z.infer<typeof ZPrediction>;
