import type { TCell, TMetricField, TMetricsResponse, TRunSeries, TVariant } from "@actlab/contracts";
import { type Db, type EpochMetricRow, findRunsWithEpochs } from "@actlab/db";
import { isUuid } from "./uuid.js";

type Row = EpochMetricRow;

/**
 * Columnar series per run: one entry per epoch in every array, epochs 1-based and ascending.
 * `fields` limits which series are sent (epoch always is); `afterEpoch` sends only newer epochs
 * so a live chart can fetch increments.
 */
export function buildSeries(
  rows: readonly Row[],
  { fields, isPrelu }: { fields: ReadonlySet<TMetricField>; isPrelu: boolean },
): TRunSeries {
  const series: TRunSeries = { epoch: rows.map((r) => r.epoch) };
  const scalar = (k: "trainLoss" | "trainAccuracy" | "testLoss" | "testAccuracy" | "seconds") => {
    if (fields.has(k)) series[k] = rows.map((r) => r[k]);
  };
  scalar("trainLoss");
  scalar("trainAccuracy");
  scalar("testLoss");
  scalar("testAccuracy");
  if (fields.has("gradNorms")) series.gradNorms = rows.map((r) => r.gradNorms);
  if (fields.has("deadFraction")) series.deadFraction = rows.map((r) => r.deadFraction);
  if (fields.has("saturatedFraction")) series.saturatedFraction = rows.map((r) => r.saturatedFraction);
  // Stored as empty arrays for non-PReLU runs; on the wire that is null.
  if (fields.has("preluAlphaMean"))
    series.preluAlphaMean = isPrelu ? rows.map((r) => r.preluAlphaMean) : null;
  scalar("seconds");
  return series;
}

export async function experimentMetrics({
  db,
  experimentId,
  runIds,
  cell,
  fields,
  afterEpoch = 0,
}: {
  db: Db;
  experimentId: string;
  runIds?: readonly string[] | undefined;
  /** Only the runs of this cell (its swept values). */
  cell?: TCell | undefined;
  fields: ReadonlySet<TMetricField>;
  afterEpoch?: number;
}): Promise<TMetricsResponse> {
  // Ids that are not UUIDs match no run (Postgres would reject them in the uuid cast: a 500);
  // asking only for such ids gets no runs, not all of them.
  const wanted = runIds?.filter(isUuid);
  if (runIds?.length && !wanted?.length) return { runs: [] };
  const runs = await findRunsWithEpochs(db, { experimentId, runIds: wanted, cell, afterEpoch });
  return {
    runs: runs.map((r) => {
      const variant = r.variant as TVariant;
      return {
        id: r.id,
        variant,
        cell: r.cell as TCell,
        repeat: r.repeat,
        status: r.status,
        series: buildSeries(r.epochs, { fields, isPrelu: variant.activation === "prelu" }),
      };
    }),
  };
}
