import type { RedisConnection } from "@actlab/queue";
import { whenReady } from "@actlab/queue";

type Listener = (message: string) => void;

interface Channel {
  listeners: Set<Listener>;
  /** Settles true once Redis confirmed the subscription, false if it has not within the timeout. */
  ready: Promise<boolean>;
}

/**
 * One Redis subscriber connection for the whole process, fanned out to every open SSE stream
 * (and to internal listeners such as key revocation). A channel stays subscribed while at
 * least one listener wants it.
 */
export class EventHub {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly sub: RedisConnection,
    private readonly subscribeTimeoutMs = 1_000,
  ) {
    sub.on("message", (channel: string, message: string) => {
      for (const fn of this.channels.get(channel)?.listeners ?? []) {
        try {
          fn(message);
        } catch {
          // One broken stream must not stop the others.
        }
      }
    });
  }

  /**
   * Registers a listener. `ready` tells whether Redis confirmed the subscription in time; when
   * Redis is down the listener stays registered and starts receiving once it is back (ioredis
   * resubscribes), so callers fall back to polling meanwhile.
   */
  listen(channelName: string, fn: Listener): { remove: () => void; ready: Promise<boolean> } {
    let channel = this.channels.get(channelName);
    if (!channel) {
      const created: Channel = { listeners: new Set(), ready: Promise.resolve(false) };
      // Only once the connection is ready (whenReady says why), and only if still wanted then.
      const subscribed = whenReady(this.sub)
        .then(() => (this.channels.get(channelName) === created ? this.sub.subscribe(channelName) : null))
        .then(
          () => true,
          () => false,
        );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.subscribeTimeoutMs);
        timer.unref();
      });
      created.ready = Promise.race([subscribed, timeout]).finally(() => clearTimeout(timer));
      channel = created;
      this.channels.set(channelName, channel);
    }
    channel.listeners.add(fn);
    const remove = () => {
      const c = this.channels.get(channelName);
      if (!c) return;
      c.listeners.delete(fn);
      if (!c.listeners.size) {
        this.channels.delete(channelName);
        whenReady(this.sub)
          .then(() => (this.channels.has(channelName) ? null : this.sub.unsubscribe(channelName)))
          .catch(() => {});
      }
    };
    return { remove, ready: channel.ready };
  }

  get channelCount(): number {
    return this.channels.size;
  }
}
