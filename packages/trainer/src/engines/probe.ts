import { getActivation } from "../activations.js";
import type { Net } from "../model.js";

/** A unit is saturated when |f′(z)| is below this for every probe example. */
export const SATURATION_EPSILON = 0.01;

/**
 * Dead and saturated fractions of each hidden layer from its pre-activations on the probe batch
 * (row-major rows × units), and prelu's mean slopes. Both engines hand their pre-activations
 * here, so the statistics are computed once, the same way. A unit is dead when its input is
 * never > 0 (ReLU-like activations only); saturated when |f′| < SATURATION_EPSILON on every row.
 */
export function unitStatistics(
  net: Net,
  pre: readonly ArrayLike<number>[],
  rows: number,
  alphas: readonly ArrayLike<number>[],
) {
  const info = getActivation(net.variant.activation);
  const params = net.variant as unknown as Record<string, number>;
  const deadFraction: number[] = [];
  const saturatedFraction: number[] = [];
  pre.forEach((v, layer) => {
    const units = v.length / rows;
    let dead = 0;
    let saturated = 0;
    const slopes = alphas[layer];
    for (let j = 0; j < units; j++) {
      let active = false;
      let allFlat = true;
      const q = slopes ? { alpha: slopes[j] as number } : params;
      for (let i = 0; i < rows; i++) {
        const zi = v[i * units + j] as number;
        if (zi > 0) active = true;
        if (allFlat && Math.abs(info.df(zi, q)) >= SATURATION_EPSILON) allFlat = false;
        if (active && !allFlat) break;
      }
      if (!active) dead++;
      if (allFlat) saturated++;
    }
    deadFraction.push(info.reluLike ? dead / units : 0);
    saturatedFraction.push(saturated / units);
  });
  const preluAlphaMean = alphas.length
    ? alphas.map((a) => {
        let s = 0;
        for (let i = 0; i < a.length; i++) s += a[i] as number;
        return s / a.length;
      })
    : null;
  return { deadFraction, saturatedFraction, preluAlphaMean };
}
