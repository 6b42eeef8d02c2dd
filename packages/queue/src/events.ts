import { experimentChannel, type TExperimentEvent } from "@actlab/contracts";
import type { Redis } from "ioredis";

/** A stored event (id from Postgres) as it travels over Redis pub/sub to the API's SSE streams. */
export interface LiveEvent {
  id: string;
  type: TExperimentEvent["type"];
  data: TExperimentEvent["data"];
}

export async function publishEvent(redis: Redis, experimentId: string, event: LiveEvent): Promise<void> {
  await redis.publish(experimentChannel(experimentId), JSON.stringify(event));
}

/** Channel on which the API tells workers to stop a run they hold (BullMQ can't cancel across processes). */
export const CANCEL_CHANNEL = "actlab:cancel";

export async function publishCancel(redis: Redis, runIds: readonly string[]): Promise<void> {
  if (runIds.length) await redis.publish(CANCEL_CHANNEL, JSON.stringify({ runIds }));
}
