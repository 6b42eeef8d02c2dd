import type {
  TCompareResponse,
  TCompareRow,
  TExperiment,
  TSpecDifference,
  TVariant,
  TVariantSummary,
} from "@actlab/contracts";
import { variantLabel, ZExperimentSpec } from "@actlab/contracts";
import type { Db } from "@actlab/db";
import { canonicalJson } from "./canonical-json.js";
import { getExperiment } from "./experiment-read.js";

const FINISHED = new Set(["succeeded", "failed", "canceled"]);

/**
 * A spec as dotted leaf paths. Objects are walked into; arrays are one value (the variants as
 * their labels, which is how people read them); an initializer or optimizer is walked into too,
 * so a changed learning rate shows as `training.optimizer.learningRate`, not the whole optimizer.
 */
export function flattenSpec(spec: unknown, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!spec || typeof spec !== "object" || Array.isArray(spec)) {
    out.set(prefix, spec);
    return out;
  }
  for (const [key, value] of Object.entries(spec as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (path === "variants" && Array.isArray(value))
      out.set(
        path,
        value.map((v) => variantLabel(v as TVariant)),
      );
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [p, v] of flattenSpec(value, path)) out.set(p, v);
    } else out.set(path, value);
  }
  return out;
}

/** The spec fields whose values are not all equal (the name is the experiments' header, not a difference). */
export function diffSpecs(specs: readonly unknown[]): TSpecDifference[] {
  const flat = specs.map((s) => flattenSpec(s));
  const paths: string[] = [];
  for (const f of flat) for (const p of f.keys()) if (p !== "name" && !paths.includes(p)) paths.push(p);
  return paths.flatMap((path) => {
    const values = flat.map((f) => (f.has(path) ? f.get(path) : null));
    const distinct = new Set(values.map(canonicalJson));
    return distinct.size > 1 ? [{ path, values }] : [];
  });
}

/** The cell a summary belongs to (sweeps add `cell` to summaries; without one it is `{}`). */
const cellOf = (s: TVariantSummary) =>
  ((s as { cell?: Record<string, unknown> }).cell ?? {}) as Record<string, unknown>;

/** Lines up the experiments' summaries by variant label and cell, in first-seen order. */
export function lineUpSummaries(experiments: readonly TExperiment[]): TCompareRow[] {
  const rows = new Map<string, TCompareRow>();
  experiments.forEach((exp, i) => {
    for (const summary of exp.summary) {
      const label = variantLabel(summary.variant);
      const cell = cellOf(summary);
      const key = `${label}\u0000${canonicalJson(cell)}`;
      let row = rows.get(key);
      if (!row) {
        row = { label, cell, summaries: experiments.map(() => null) };
        rows.set(key, row);
      }
      row.summaries[i] = summary;
    }
  });
  return [...rows.values()];
}

/** `GET /v1/compare`: each experiment read as GET /experiments/:id reads it (404 if one is not the tenant's). */
export async function compareExperiments({
  db,
  tenantId,
  ids,
}: {
  db: Db;
  tenantId: string;
  ids: readonly string[];
}): Promise<TCompareResponse> {
  const experiments: TExperiment[] = [];
  for (const id of ids) experiments.push(await getExperiment({ db, tenantId, id }));
  return {
    experiments: experiments.map((e) => ({
      id: e.id,
      name: e.name,
      status: e.status,
      createdAt: e.createdAt,
      startedAt: e.startedAt,
      finishedAt: e.finishedAt,
      runs: e.runs.length,
      finished: e.runs.filter((r) => FINISHED.has(r.status)).length,
    })),
    // Re-parsed so fields come in the schema's order (jsonb stores keys in its own order).
    differences: diffSpecs(experiments.map((e) => ZExperimentSpec.safeParse(e.spec).data ?? e.spec)),
    rows: lineUpSummaries(experiments),
  };
}
