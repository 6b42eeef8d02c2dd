import { type Db, findModelArtifact, findModelArtifactHash } from "@actlab/db";
import { AppError } from "../errors.js";

/** The part of @actlab/trainer this API uses; loaded on first use so start-up does not load TensorFlow.js. */
type Trainer = typeof import("@actlab/trainer");
let trainer: Promise<Trainer> | null = null;
export function loadTrainer(): Promise<Trainer> {
  trainer ??= import("@actlab/trainer");
  return trainer;
}

type LayersModel = Awaited<ReturnType<Trainer["loadArtifactModel"]>>;

export interface StoredArtifact {
  topology: unknown;
  weightSpecs: unknown;
  weights: Uint8Array;
  sha256: string;
}

export const WEIGHTS_FILE = "weights.bin";

/** model.json in the TensorFlow.js layers format; the weights path is relative, so it resolves next to it. */
export function modelJson(a: Pick<StoredArtifact, "topology" | "weightSpecs">) {
  return {
    format: "layers-model",
    generatedBy: "actlab",
    convertedBy: null,
    modelTopology: a.topology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs }],
  };
}

/**
 * Loaded models for /predict, least recently used dropped (and their tensors disposed) beyond
 * `maxEntries`. Keyed by run id + weights hash, so a replaced artifact is never served stale.
 */
export class ModelCache {
  private readonly entries = new Map<string, Promise<LayersModel>>();

  constructor(private readonly maxEntries: number) {}

  async get(key: string, load: () => Promise<LayersModel>): Promise<LayersModel> {
    let p = this.entries.get(key);
    if (p) {
      this.entries.delete(key); // re-insert: Map order is recency order
      this.entries.set(key, p);
      return p;
    }
    p = load();
    this.entries.set(key, p);
    p.catch(() => this.entries.delete(key));
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      const evicted = this.entries.get(oldest)!;
      this.entries.delete(oldest);
      evicted.then((m) => m.dispose()).catch(() => {});
    }
    return p;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const p of this.entries.values()) p.then((m) => m.dispose()).catch(() => {});
    this.entries.clear();
  }
}

/** Flattens one input: 784 values or 28 rows of 28. */
export function flattenInput(input: number[] | number[][], size: number): number[] {
  const flat = Array.isArray(input[0]) ? (input as number[][]).flat() : (input as number[]);
  if (flat.length !== size) throw new Error(`expected ${size} values, got ${flat.length}`);
  return flat;
}

export async function predictWithRun({
  db,
  cache,
  runId,
  inputs,
}: {
  db: Db;
  cache: ModelCache;
  runId: string;
  inputs: number[][];
}): Promise<{ probabilities: number[][]; classes: number[] }> {
  const sha256 = await findModelArtifactHash(db, runId);
  if (!sha256)
    throw new AppError("conflict", "this run has no trained model yet; wait until it has succeeded");
  const t = await loadTrainer();
  const model = await cache.get(`${runId}:${sha256}`, async () => {
    const a = await findModelArtifact(db, runId);
    if (!a) throw new AppError("conflict", "this run's model was removed");
    return t.loadArtifactModel({
      topology: a.topology as object,
      weightSpecs: a.weightSpecs as object[],
      weights: a.weights,
      sha256: a.sha256,
    });
  });
  const expected = model.inputs[0]?.shape[1];
  if (typeof expected === "number" && inputs.some((row) => row.length !== expected)) {
    throw new AppError("validation", `this model takes ${expected} values per input`, {
      errors: [{ path: "inputs", message: `each input must have ${expected} values` }],
    });
  }
  return t.predict(model, inputs);
}
