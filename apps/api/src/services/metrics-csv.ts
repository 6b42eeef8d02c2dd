import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CSV_LAYER_SERIES,
  CSV_SCALAR_COLUMNS,
  metricsCsvColumns,
  type TExperimentSpec,
  type TVariant,
  variantLabel,
  variantParamNames,
} from "@actlab/contracts";
import { type Db, type EpochMetricRow, findEpochsOfRun, findRunsToExport } from "@actlab/db";
import { stringify } from "csv-stringify";

type Cell = string | number | null;

interface Logger {
  warn(obj: object, msg: string): void;
}

/**
 * The columns of this experiment's export: the parameters its variants have, its sweep axes
 * (none yet: cell columns come with `Run.cell`), and per-layer columns for its deepest network.
 */
export function csvColumnsFor(spec: TExperimentSpec): string[] {
  const used = new Set(spec.variants.flatMap((v) => Object.keys(v).filter((k) => k !== "activation")));
  return metricsCsvColumns({
    params: variantParamNames().filter((p) => used.has(p)),
    cellPaths: [],
    hiddenLayers: spec.model.hiddenLayers,
  });
}

/** One CSV record per stored epoch of a run, in `columns`' order. */
export function csvRecord(
  columns: readonly string[],
  run: { experimentId: string; id: string; variant: TVariant; repeat: number; seed: number; status: string },
  row: EpochMetricRow,
): Cell[] {
  const values = new Map<string, Cell>([
    ["experimentId", run.experimentId],
    ["runId", run.id],
    ["variant", variantLabel(run.variant)],
    ["activation", run.variant.activation],
    ["repeat", run.repeat],
    ["seed", run.seed],
    ["status", run.status],
    ["epoch", row.epoch],
  ]);
  for (const [k, v] of Object.entries(run.variant)) if (k !== "activation") values.set(k, v as number);
  for (const k of CSV_SCALAR_COLUMNS) values.set(k, row[k]);
  for (const s of CSV_LAYER_SERIES) {
    row[s.field].forEach((v, i) => {
      values.set(`${s.column}_${i + 1}`, v);
    });
  }
  return columns.map((c) => values.get(c) ?? null);
}

/**
 * `GET /v1/experiments/:id/metrics.csv` as a stream: the header, then each run's epochs, read
 * from Postgres one run at a time, so memory holds one run's epochs whatever the experiment's
 * size. RFC 4180 (CRLF line ends, fields with commas, quotes or line breaks quoted) by
 * csv-stringify. A database error mid-way ends the stream with an error (the client sees a cut
 * download, never a complete-looking file).
 */
export function metricsCsvStream({
  db,
  experimentId,
  spec,
  log,
}: {
  db: Db;
  experimentId: string;
  spec: TExperimentSpec;
  log: Logger;
}): Readable {
  const columns = csvColumnsFor(spec);
  async function* records(): AsyncGenerator<Cell[]> {
    for (const run of await findRunsToExport(db, experimentId)) {
      const identity = { ...run, experimentId, variant: run.variant as TVariant };
      for (const row of await findEpochsOfRun(db, run.id)) yield csvRecord(columns, identity, row);
    }
  }
  const csv = stringify({ header: true, columns, record_delimiter: "windows" });
  pipeline(Readable.from(records()), csv).catch((err: Error) => {
    log.warn({ err, experimentId }, "metrics.csv export stopped");
  });
  return csv;
}
