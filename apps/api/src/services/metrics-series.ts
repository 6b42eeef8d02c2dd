import type { TCell, TMetricField, TRunSeries, TVariant } from "@actlab/contracts";
import { type Db, type EpochMetricRow, findRunIds, findRunsWithEpochs } from "@actlab/db";
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

/** Runs read (with their epochs) per query while streaming: bounds memory at ~RUN_BATCH × epochs rows. */
export const RUN_BATCH = 100;

/**
 * The metrics response as JSON text, produced run batch by run batch: a 2,000-run sweep's
 * metrics are never held in memory whole, neither as rows nor as text. The bytes are exactly
 * JSON.stringify of the documented ZMetricsResponse body.
 */
export async function* streamExperimentMetrics({
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
}): AsyncGenerator<string> {
  // Ids that are not UUIDs match no run (Postgres would reject them in the uuid cast: a 500);
  // asking only for such ids gets no runs, not all of them.
  const wanted = runIds?.filter(isUuid);
  const ids = runIds?.length && !wanted?.length ? [] : await findRunIds(db, { experimentId, cell });
  const chosen = wanted?.length ? ids.filter((id) => wanted.includes(id)) : ids;
  yield '{"runs":[';
  let first = true;
  for (let from = 0; from < chosen.length; from += RUN_BATCH) {
    const batch = chosen.slice(from, from + RUN_BATCH);
    const runs = await findRunsWithEpochs(db, { experimentId, runIds: batch, afterEpoch });
    const byId = new Map(runs.map((r) => [r.id, r]));
    yield batch
      .flatMap((id) => {
        const r = byId.get(id);
        if (!r) return []; // deleted meanwhile
        const variant = r.variant as TVariant;
        return [
          JSON.stringify({
            id: r.id,
            variant,
            cell: r.cell as TCell,
            repeat: r.repeat,
            status: r.status,
            series: buildSeries(r.epochs, { fields, isPrelu: variant.activation === "prelu" }),
          }),
        ];
      })
      .map((json) => {
        const sep = first ? "" : ",";
        first = false;
        return sep + json;
      })
      .join("");
  }
  yield "]}";
}
