import type { TExperimentEvent } from "@actlab/contracts";
import type { PubSubChannels } from "./channels.js";
import type { RedisConnection } from "./connection.js";

/** A stored event (id from Postgres) as it travels over Redis pub/sub to the API's SSE streams. */
export interface LiveEvent {
  id: string;
  type: TExperimentEvent["type"];
  data: TExperimentEvent["data"];
}

export async function publishEvent(
  redis: RedisConnection,
  channels: PubSubChannels,
  experimentId: string,
  event: LiveEvent,
): Promise<void> {
  await redis.publish(channels.events(experimentId), JSON.stringify(event));
}

/** Tells workers to stop runs they hold (BullMQ can't cancel across processes). */
export async function publishCancel(
  redis: RedisConnection,
  channels: PubSubChannels,
  runIds: readonly string[],
): Promise<void> {
  if (runIds.length) await redis.publish(channels.cancel, JSON.stringify({ runIds }));
}

/** Tells every API process to forget a cached key at once (they would otherwise keep it for its TTL). */
export async function publishKeyRevoked(
  redis: RedisConnection,
  channels: PubSubChannels,
  keyPrefix: string,
): Promise<void> {
  await redis.publish(channels.apiKeyRevoked, keyPrefix);
}
