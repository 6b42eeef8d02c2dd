import type { RedisConnection } from "@actlab/queue";
import { type Job, Queue, WaitingError, Worker, type WorkerOptions } from "bullmq";
import type { Logger } from "pino";

export interface ExclusiveWorkers {
  workers: Worker[];
  close(): Promise<void>;
}

/**
 * BullMQ workers on several queues (first = preferred) that together process one job at a
 * time — a GPU worker consumes `training-gpu` and, when idle, `training`.
 *
 * While one queue's worker holds the process's slot, the other workers are paused; a job one
 * of them fetched in that race is put straight back in its queue (BullMQ's documented manual
 * retry: `job.moveToWait(token)` + `WaitingError`, which does not count as an attempt). A
 * job from a later queue is also handed back while an earlier queue has jobs waiting, so the
 * preferred queue goes first (best effort: a job the preferred worker has fetched but not yet
 * started can still lose the race); that worker then pauses briefly instead of re-fetching.
 */
export function startExclusiveWorkers({
  queueNames,
  connection,
  options,
  processor,
  logger,
  recheckMs = 2_000,
}: {
  queueNames: readonly string[];
  connection: RedisConnection;
  options: Omit<WorkerOptions, "connection">;
  processor: (job: Job, token: string | undefined) => Promise<unknown>;
  logger: Logger;
  recheckMs?: number;
}): ExclusiveWorkers {
  let busy = false;
  let closing = false;
  const workers: Worker[] = [];
  const preferred = queueNames
    .slice(0, -1)
    .map((name) => new Queue(name, { connection, prefix: options.prefix }));
  for (const q of preferred) q.on("error", () => {});
  const resumeTimers = new Set<NodeJS.Timeout>();

  const resumeOthers = (except: Worker | null) => {
    if (closing) return;
    for (const w of workers) if (w !== except) w.resume();
  };
  const handBack = async (job: Job, token: string | undefined): Promise<never> => {
    await job.moveToWait(token);
    throw new WaitingError();
  };

  queueNames.forEach((name, index) => {
    const worker: Worker = new Worker(
      name,
      async (job, token) => {
        if (index > 0 && !busy) {
          const counts = await Promise.all(
            preferred.slice(0, index).map((q) => q.getJobCounts("wait", "prioritized")),
          );
          if (counts.some((c) => (c.wait ?? 0) + (c.prioritized ?? 0) > 0)) {
            void worker.pause(true);
            const timer = setTimeout(() => {
              resumeTimers.delete(timer);
              if (!busy && !closing) worker.resume();
            }, recheckMs);
            resumeTimers.add(timer);
            return handBack(job, token);
          }
        }
        if (busy) {
          // The slot holder resumes every worker when it is done; until then do not re-fetch.
          void worker.pause(true);
          return handBack(job, token);
        }
        // No await between the check above and taking the slot.
        busy = true;
        for (const w of workers) if (w !== worker) void w.pause(true);
        try {
          return await processor(job, token);
        } finally {
          busy = false;
          resumeOthers(worker);
        }
      },
      { connection, ...options },
    );
    worker.on("error", (err) => logger.warn({ err: err.message, queue: name }, "queue worker error"));
    worker.on("stalled", (jobId) => logger.warn({ jobId, queue: name }, "stalled job moved back to wait"));
    worker.on("failed", (job, err) => {
      if (err.name !== "WaitingError") {
        logger.warn({ jobId: job?.id, queue: name, err: err.message }, "job attempt failed");
      }
    });
    workers.push(worker);
  });

  return {
    workers,
    async close() {
      closing = true;
      for (const t of resumeTimers) clearTimeout(t);
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(preferred.map((q) => q.close()));
    },
  };
}
