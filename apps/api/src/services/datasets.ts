import { LIMITS, type TDatasetList, type TDatasetName, type TExperimentSpec } from "@actlab/contracts";
import { AppError } from "../errors.js";
import { loadTrainer } from "./models.js";

/** Dataset availability changes rarely and counting loads files: cache it for a while. */
const DATASETS_TTL_MS = 5 * 60_000;

/**
 * The datasets this install can train on and their sizes (GET /v1/datasets), cached; the same
 * list checks a submitted spec, so asking for more samples than there are is a 400 at submit
 * instead of a run that fails on the worker.
 */
export class DatasetCatalog {
  private cached: { at: number; value: Promise<TDatasetList> } | null = null;

  constructor(
    private readonly dirs: { mnistFullDir?: string | undefined; fashionMnistDir?: string | undefined },
  ) {}

  list(): Promise<TDatasetList> {
    if (!this.cached || this.cached.at < Date.now() - DATASETS_TTL_MS) {
      const value = this.read();
      this.cached = { at: Date.now(), value };
      value.catch(() => {
        this.cached = null;
      });
    }
    return this.cached.value;
  }

  private async read(): Promise<TDatasetList> {
    const t = await loadTrainer();
    const opts: { mnistFullDir?: string; fashionMnistDir?: string } = {};
    if (this.dirs.mnistFullDir) opts.mnistFullDir = this.dirs.mnistFullDir;
    if (this.dirs.fashionMnistDir) opts.fashionMnistDir = this.dirs.fashionMnistDir;
    const list = await t.listDatasets(opts);
    return {
      datasets: list.map((d) => ({
        name: d.name as TDatasetName,
        available: d.available,
        samples: d.samples,
        maxSamples: Math.min(d.samples, LIMITS.maxSamples),
        detail: d.detail,
      })),
    };
  }

  /**
   * Throws a validation problem naming `dataset.samples` and the available count when the spec
   * asks for more samples than the dataset has. A dataset whose size is not known here (absent,
   * or downloaded on first use) is left to the worker, which fails such a run at once.
   */
  async assertFits(spec: TExperimentSpec): Promise<void> {
    const { datasets } = await this.list();
    const d = datasets.find((x) => x.name === spec.dataset.name);
    if (!d?.available || d.samples <= 0 || spec.dataset.samples <= d.samples) return;
    const n = d.samples.toLocaleString("en-US");
    throw new AppError("validation", `dataset "${d.name}" has ${n} samples on this install`, {
      errors: [
        {
          path: "dataset.samples",
          message: `at most ${n}: dataset "${d.name}" has ${n} samples on this install (asked for ${spec.dataset.samples.toLocaleString("en-US")})`,
        },
      ],
    });
  }
}
