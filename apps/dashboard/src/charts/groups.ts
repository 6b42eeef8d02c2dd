import type { TMetricsResponse, TVariant } from "@actlab/contracts";
import { useMemo } from "react";
import { groupByVariant, type VariantGroup } from "../lib/aggregate.js";

/** The metrics grouped by variant, in the spec's order, recomputed only when either changes. */
export function useGroups(
  metrics: TMetricsResponse | undefined,
  variants: readonly TVariant[],
): VariantGroup[] {
  return useMemo(() => (metrics ? groupByVariant(metrics, variants) : []), [metrics, variants]);
}

/** Rebuild a chart's options only when this changes (a new epoch only updates the data). */
export const structureOf = (groups: readonly VariantGroup[], ...more: unknown[]) =>
  [groups.map((g) => g.label).join("|"), ...more].join("#");
