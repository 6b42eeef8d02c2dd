import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CSV_LAYER_SERIES,
  CSV_SCALAR_COLUMNS,
  metricsCsvColumns,
  SWEEP_PATHS,
  type TCell,
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
 * The columns of this experiment's export: the parameters its variants have, its swept paths in
 * SWEEP_PATHS order (the order sweepCells varies them in), and per-layer columns for its deepest
 * network (a sweep over `model.hiddenLayers` makes some runs deeper than the spec's own value).
 */
export function csvColumnsFor(spec: TExperimentSpec): string[] {
  const used = new Set(spec.variants.flatMap((v) => Object.keys(v).filter((k) => k !== "activation")));
  return metricsCsvColumns({
    params: variantParamNames().filter((p) => used.has(p)),
    cellPaths: SWEEP_PATHS.filter((p) => spec.sweep[p] !== undefined),
    hiddenLayers: Math.max(spec.model.hiddenLayers, ...(spec.sweep["model.hiddenLayers"] ?? [])),
  });
}

/** A swept value as one CSV field: numbers and names as they are, an object (initializer, optimizer) as JSON. */
const cellField = (v: unknown): Cell =>
  typeof v === "number" || typeof v === "string" ? v : v === undefined ? null : JSON.stringify(v);

/** One CSV record per stored epoch of a run, in `columns`' order. */
export function csvRecord(
  columns: readonly string[],
  run: {
    experimentId: string;
    id: string;
    variant: TVariant;
    cell: TCell;
    repeat: number;
    seed: number;
    status: string;
  },
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
  for (const [path, v] of Object.entries(run.cell)) values.set(`cell.${path}`, cellField(v));
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
      const identity = { ...run, experimentId, variant: run.variant as TVariant, cell: run.cell as TCell };
      for (const row of await findEpochsOfRun(db, run.id)) yield csvRecord(columns, identity, row);
    }
  }
  const csv = stringify({ header: true, columns, record_delimiter: "windows" });
  pipeline(Readable.from(records()), csv).catch((err: Error) => {
    log.warn({ err, experimentId }, "metrics.csv export stopped");
  });
  return csv;
}
