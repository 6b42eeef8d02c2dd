import {
  applyCell,
  epochWork,
  estimateSpec,
  type TCell,
  type TEstimate,
  type TExperimentSpec,
} from "@actlab/contracts";
import { type Db, findRecentRunPaces } from "@actlab/db";
import { devicesOfQueue, queueForDevice, rejectAfter, type TrainingProducer } from "@actlab/queue";
import { QUEUE_TIMEOUT_MS } from "./experiment-create.js";

interface Logger {
  warn(obj: object, msg: string): void;
}

/** Recent runs the pace is measured from: enough for a stable median, few enough to follow a change of backend. */
const MEASURED_RUNS = 50;

/**
 * `POST /v1/experiments/estimate`: the wall-clock pace per epoch of the latest succeeded runs on
 * the queue this spec's runs would go to — only those trained on the backend of the latest one (the workers' current
 * backend) —, scaled to this spec's runs by estimateSpec (packages/contracts/src/estimate.ts), and the
 * workers connected to that queue (BullMQ's worker list). Nothing is stored.
 */
export async function estimateExperiment({
  db,
  producer,
  log,
  spec,
}: {
  db: Db;
  producer: TrainingProducer;
  log: Logger;
  spec: TExperimentSpec;
}): Promise<TEstimate> {
  const queue = queueForDevice(spec.device);
  const [rows, workers] = await Promise.all([
    findRecentRunPaces(db, { devices: devicesOfQueue(queue), limit: MEASURED_RUNS }),
    rejectAfter(
      producer.queues[queue]!.getWorkersCount(),
      QUEUE_TIMEOUT_MS,
      "listing the queue's workers",
    ).catch((err: unknown) => {
      log.warn({ err, queue }, "could not list the queue's workers (Redis unavailable?)");
      return null;
    }),
  ]);
  const backend = rows[0]?.backend ?? null;
  const samples = rows
    .filter((r) => r.backend === backend)
    .map((r) => ({
      seconds: r.secondsPerEpoch,
      epochs: 1,
      work: epochWork(applyCell(r.spec as TExperimentSpec, r.cell as TCell)),
    }));
  return estimateSpec(spec, { samples, workers, backend });
}
