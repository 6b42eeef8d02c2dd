/**
 * @actlab/stats — the statistics behind actlab's summaries and verdicts. The distributions come
 * from stdlib (@stdlib/stats-*: Student t, Wilcoxon signed-rank, Clopper–Pearson, Holm), not
 * hand-written; this package only decides what is compared with what.
 */
export {
  BOOTSTRAP_RESAMPLES,
  bootstrapMeanInterval,
  comparePaired,
  holmAdjust,
  type PairedComparison,
  WILCOXON_MIN_PAIRS,
} from "./paired.js";
export { binomialInterval95, describeSample, type Interval, type Spread } from "./spread.js";
