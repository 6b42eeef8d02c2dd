import type { TDevice } from "@actlab/contracts";
import type { Queue } from "bullmq";
import { TRAINING_JOB_NAME, TRAINING_JOB_OPTIONS, type TTrainingJob } from "./job.js";
import { queueForDevice, TRAINING_GPU_QUEUE, TRAINING_QUEUE } from "./names.js";
import { type ProducerOptions, producerQueue } from "./producer-queue.js";

export interface RunToEnqueue {
  id: string;
  experimentId: string;
  device: TDevice;
}

export interface TrainingProducer {
  queues: Record<string, Queue>;
  /** Adds one job per run with jobId = run id, so adding the same run twice is a no-op. */
  enqueueRuns(runs: readonly RunToEnqueue[]): Promise<void>;
  /**
   * Removes the completed or failed jobs of these runs, whose ids would otherwise make adding
   * them again a no-op (a continued run is enqueued under its id once more).
   */
  removeFinished(runIds: readonly string[]): Promise<void>;
  /** Removes still-waiting jobs of these runs; returns the ids that were removed. */
  removeWaiting(runIds: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

export function createTrainingProducer(options: ProducerOptions): TrainingProducer {
  const queues: Record<string, Queue> = {
    [TRAINING_QUEUE]: producerQueue(TRAINING_QUEUE, options),
    [TRAINING_GPU_QUEUE]: producerQueue(TRAINING_GPU_QUEUE, options),
  };

  return {
    queues,
    async enqueueRuns(runs) {
      const byQueue = new Map<string, RunToEnqueue[]>();
      for (const run of runs) {
        const name = queueForDevice(run.device);
        byQueue.set(name, [...(byQueue.get(name) ?? []), run]);
      }
      for (const [name, list] of byQueue) {
        await queues[name]!.addBulk(
          list.map((run) => ({
            name: TRAINING_JOB_NAME,
            data: { runId: run.id, experimentId: run.experimentId } satisfies TTrainingJob,
            opts: { ...TRAINING_JOB_OPTIONS, jobId: run.id },
          })),
        );
      }
    },
    async removeFinished(runIds) {
      for (const q of Object.values(queues)) {
        for (const id of runIds) {
          const job = await q.getJob(id);
          if (!job) continue;
          const state = await job.getState();
          // An active job is still finishing (its run is already stored as succeeded): the
          // reconciler replaces it once it completes, as for any queued run without a live job.
          if (state === "completed" || state === "failed") await job.remove().catch(() => {});
        }
      }
    },
    async removeWaiting(runIds) {
      const removed: string[] = [];
      for (const q of Object.values(queues)) {
        for (const id of runIds) {
          const job = await q.getJob(id);
          if (!job) continue;
          const state = await job.getState();
          if (
            state === "waiting" ||
            state === "delayed" ||
            state === "prioritized" ||
            state === "waiting-children"
          ) {
            try {
              await job.remove();
              removed.push(id);
            } catch {
              // Taken by a worker between getState and remove: the worker's cancel check stops it.
            }
          }
        }
      }
      return removed;
    },
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}
