import { z } from "zod";
import { SWEEP_PATHS, type TExperimentSpec, type TSweepPath } from "./spec.js";

/**
 * A cell of a sweep: the value of every swept path (`{}` without a sweep). Every run carries
 * its cell; the runs of a cell are its variants × repeats.
 */
export const ZCell = z.record(z.string(), z.unknown()).describe("swept spec path → its value in this cell");
export type TCell = Record<string, unknown>;

/**
 * The cells of a spec's sweep in a fixed order: the cartesian product of the axes, taken in
 * SWEEP_PATHS order with the last axis varying fastest. Without a sweep: one empty cell.
 */
export function sweepCells(spec: Pick<TExperimentSpec, "sweep">): TCell[] {
  let cells: TCell[] = [{}];
  for (const path of SWEEP_PATHS) {
    const values = spec.sweep[path];
    if (!values) continue;
    cells = cells.flatMap((cell) => (values as readonly unknown[]).map((v) => ({ ...cell, [path]: v })));
  }
  return cells;
}

type Plain = Record<string, unknown>;

/** The spec one cell's runs train with: the swept values written into their paths, no sweep left. */
export function applyCell(spec: TExperimentSpec, cell: TCell): TExperimentSpec {
  const out = structuredClone({ ...spec, sweep: {} }) as unknown as Plain;
  for (const [path, value] of Object.entries(cell)) {
    if (!(SWEEP_PATHS as readonly string[]).includes(path)) throw new RangeError(`not a sweep path: ${path}`);
    const keys = path.split(".");
    let at = out;
    for (const k of keys.slice(0, -1)) at = at[k] as Plain;
    at[keys.at(-1) as string] = structuredClone(value);
  }
  return out as unknown as TExperimentSpec;
}

/** Short names of the sweep paths for labels and column headers. */
export const SWEEP_PATH_LABELS: Readonly<Record<TSweepPath, string>> = {
  "model.hiddenLayers": "layers",
  "model.units": "units",
  "model.initializer": "init",
  "training.optimizer": "optimizer",
  "training.optimizer.learningRate": "lr",
  "training.batchSize": "batch",
  "dataset.pixelScale": "pixels",
};

function valueLabel(value: unknown): string {
  if (value && typeof value === "object") {
    const o = value as Plain;
    if (typeof o.name === "string") {
      const rest = Object.entries(o)
        .filter(([k]) => k !== "name")
        .map(([k, v]) => `${k}=${v}`);
      return rest.length ? `${o.name}(${rest.join(", ")})` : o.name;
    }
    return JSON.stringify(value);
  }
  return String(value);
}

/** "layers=4, lr=0.1"; "" for the empty cell. */
export function cellLabel(cell: TCell): string {
  return Object.entries(cell)
    .map(([path, v]) => `${SWEEP_PATH_LABELS[path as TSweepPath] ?? path}=${valueLabel(v)}`)
    .join(", ");
}

/** A string that is equal for equal cells (keys sorted, values as JSON): for grouping and maps. */
export function cellKey(cell: TCell): string {
  const canonical = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (v && typeof v === "object")
      return `{${Object.keys(v)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((v as Plain)[k])}`)
        .join(",")}}`;
    return JSON.stringify(v);
  };
  return canonical(cell);
}
