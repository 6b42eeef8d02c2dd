import { Cluster } from "ioredis";
import type { RedisConnection } from "../../packages/queue/src/index.js";

/** The servers to ask about keys or subscriptions: every master of a cluster, or the one server. */
function servers(redis: RedisConnection) {
  return redis instanceof Cluster ? redis.nodes("master") : [redis];
}

/** Deletes every key under a BullMQ prefix (tests clean up after themselves), on each cluster master. */
export async function deletePrefix(redis: RedisConnection, prefix: string): Promise<void> {
  for (const server of servers(redis)) {
    let cursor = "0";
    do {
      const [next, keys] = await server.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      // One DEL per key: on a cluster the keys of one scan may live in different slots.
      for (const key of keys) await redis.del(key);
    } while (cursor !== "0");
  }
}

/**
 * How many connections are subscribed to a channel. PUBSUB NUMSUB answers for the node asked
 * only, and a cluster client subscribes on any one node, so on a cluster it is summed over all.
 */
export async function subscriberCount(redis: RedisConnection, channel: string): Promise<number> {
  let n = 0;
  for (const server of redis instanceof Cluster ? redis.nodes("all") : [redis]) {
    const reply = (await server.pubsub("NUMSUB", channel)) as [string, number];
    n += Number(reply[1]);
  }
  return n;
}
