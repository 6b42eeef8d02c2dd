import type { TDevice } from "@actlab/contracts";

/** CPU runs; GPU workers also take these when idle. */
export const TRAINING_QUEUE = "training";
/** Runs that asked for a GPU. */
export const TRAINING_GPU_QUEUE = "training-gpu";

/**
 * `any` goes to the CPU queue: every worker (CPU, and GPU when idle) consumes it, so such a
 * run starts wherever a worker is free first.
 */
export function queueForDevice(device: TDevice): string {
  return device === "gpu" ? TRAINING_GPU_QUEUE : TRAINING_QUEUE;
}

/** Key prefix of every BullMQ key; tests use their own so they never touch each other. */
export const DEFAULT_PREFIX = "actlab";

/** The devices whose runs `queueForDevice` puts on this queue. */
export function devicesOfQueue(queue: string): TDevice[] {
  return (["cpu", "gpu", "any"] as const).filter((d) => queueForDevice(d) === queue);
}
