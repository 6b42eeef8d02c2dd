/**
 * Small seeded randomness. Everything random in a run (shuffling, rrelu slopes) is derived
 * from (run seed, epoch, batch, …) by hashing, so it needs no stored generator state and a
 * resumed run draws exactly what an uninterrupted one would have drawn.
 */

/** Mixes integers into one 32-bit seed (murmur3-style finalizer over each input). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.trunc(p) | 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: a tiny, fast, well-distributed 32-bit generator; returns floats in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const rng = createRng(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/** Purposes, so seeds drawn for different things never coincide. */
export const SEED_PURPOSE = {
  shuffle: 1,
  init: 2,
  rrelu: 3,
  split: 4,
  probe: 5,
} as const;

/**
 * RReLU's training slopes for one layer and step: element i's slope is lower + (upper − lower)·u
 * with u = the top 24 bits of mixSeed(stepSeed, i) / 2²⁴, in float32 arithmetic. Counter-based
 * (no generator state), and the native engine computes the same numbers (engine_cpu.cc, forward),
 * so the two engines draw identical slopes.
 */
export function rreluSlopes(stepSeed: number, n: number, lower: number, upper: number): Float32Array {
  const lo = Math.fround(lower);
  const span = Math.fround(Math.fround(upper) - lo);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.fround((mixSeed(stepSeed, i) >>> 8) / 16777216);
    out[i] = Math.fround(lo + Math.fround(span * u));
  }
  return out;
}
