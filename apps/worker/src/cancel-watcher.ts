import type { RedisConnection } from "@actlab/queue";
import { type PubSubChannels, subscribeWhenReady } from "@actlab/queue";
import type { Logger } from "pino";
import { z } from "zod";

const ZCancelMessage = z.object({ runIds: z.array(z.string()) });

/**
 * Listens on the deployment's cancel channel (BullMQ can only cancel inside the process that holds a
 * job, and the API is another process) and calls the stop function of runs held here. A missed
 * message is covered by the handler's periodic read of run.cancelRequested.
 */
export class CancelWatcher {
  private readonly watched = new Map<string, () => void>();

  private constructor(private readonly subscriber: RedisConnection) {}

  static async start({
    subscriber,
    logger,
    channels,
  }: {
    subscriber: RedisConnection;
    logger: Logger;
    channels: PubSubChannels;
  }): Promise<CancelWatcher> {
    const watcher = new CancelWatcher(subscriber);
    subscriber.on("message", (channel: string, payload: string) => {
      if (channel !== channels.cancel) return;
      let parsed: z.infer<typeof ZCancelMessage>;
      try {
        parsed = ZCancelMessage.parse(JSON.parse(payload));
      } catch {
        logger.warn({ payload: payload.slice(0, 200) }, "ignoring malformed cancel message");
        return;
      }
      for (const runId of parsed.runIds) {
        const stop = watcher.watched.get(runId);
        if (stop) {
          logger.info({ runId }, "cancel requested via pub/sub");
          stop();
        }
      }
    });
    // Not before the connection is ready (see whenReady); ioredis re-subscribes by itself after a
    // reconnect (autoResubscribe).
    await subscribeWhenReady(subscriber, channels.cancel);
    return watcher;
  }

  /** Calls `stop` when a cancel for `runId` arrives, until the returned function is called. */
  watch(runId: string, stop: () => void): () => void {
    this.watched.set(runId, stop);
    return () => {
      if (this.watched.get(runId) === stop) this.watched.delete(runId);
    };
  }

  async close(): Promise<void> {
    this.watched.clear();
    this.subscriber.disconnect();
  }
}
