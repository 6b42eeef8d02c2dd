import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { subscriberCount, TEST_REDIS_URL, testPrefix } from "../../../tests/support/index.js";
import { pubsubChannels } from "./channels.js";
import { createRedis, subscribeWhenReady, whenReady } from "./connection.js";
import { publishCancel, publishEvent, publishKeyRevoked } from "./events.js";

const pub = createRedis(TEST_REDIS_URL, { role: "producer" });
const subs = [
  createRedis(TEST_REDIS_URL, { role: "subscriber" }),
  createRedis(TEST_REDIS_URL, { role: "subscriber" }),
];
afterAll(() => {
  pub.disconnect();
  for (const s of subs) s.disconnect();
});

describe("pub/sub channels", () => {
  it("are all under QUEUE_PREFIX", () => {
    const c = pubsubChannels("acme-prod");
    expect([c.cancel, c.apiKeyRevoked, c.events("e1")]).toEqual([
      "acme-prod:cancel",
      "acme-prod:apikeys:revoked",
      "acme-prod:events:e1",
    ]);
    expect(() => pubsubChannels("")).toThrow(/QUEUE_PREFIX/);
  });

  it("keep two deployments on one Redis apart: each hears only its own events, cancels and revocations", async () => {
    const deployments = [pubsubChannels(testPrefix("chan-a")), pubsubChannels(testPrefix("chan-b"))];
    const experimentId = randomUUID();
    const heard: Array<Array<[string, string]>> = [[], []];
    await Promise.all(
      deployments.map(async (c, i) => {
        subs[i]!.on("message", (channel: string, message: string) => heard[i]!.push([channel, message]));
        await subscribeWhenReady(subs[i]!, c.cancel, c.apiKeyRevoked, c.events(experimentId));
      }),
    );
    await whenReady(pub); // a producer connection refuses commands until then
    for (const c of deployments) {
      expect(await subscriberCount(pub, c.cancel)).toBe(1);
      expect(await subscriberCount(pub, c.events(experimentId))).toBe(1);
    }
    for (const [i, c] of deployments.entries()) {
      await publishEvent(pub, c, experimentId, {
        id: String(i + 1),
        type: "experiment.finished",
        data: { experimentId, status: "succeeded" },
      });
      await publishCancel(pub, c, [`run-${i}`]);
      await publishCancel(pub, c, []); // nothing to say: nothing published
      await publishKeyRevoked(pub, c, `ak_prefix${i}`);
    }
    await expect.poll(() => heard.map((h) => h.length), { timeout: 15_000 }).toEqual([3, 3]);
    // Order across channels is not promised: on Redis Cluster each channel is published on the
    // node owning its slot and reaches the subscriber's node over the cluster bus, so messages
    // on different channels can arrive in either order (CI saw it). Compare them as a set.
    const byChannel = (a: [string, string], b: [string, string]) => a[0].localeCompare(b[0]);
    for (const [i, c] of deployments.entries()) {
      const expected: Array<[string, string]> = [
        [
          c.events(experimentId),
          JSON.stringify({
            id: String(i + 1),
            type: "experiment.finished",
            data: { experimentId, status: "succeeded" },
          }),
        ],
        [c.cancel, JSON.stringify({ runIds: [`run-${i}`] })],
        [c.apiKeyRevoked, `ak_prefix${i}`],
      ];
      expect([...heard[i]!].sort(byChannel)).toEqual(expected.sort(byChannel));
    }
  });
});

describe("subscribeWhenReady", () => {
  it("subscribes for real when asked during the connect handshake (ioredis#2037)", async () => {
    const checker = createRedis(TEST_REDIS_URL, { role: "worker" });
    try {
      for (let i = 0; i < 10; i++) {
        const sub = createRedis(TEST_REDIS_URL, { role: "subscriber" });
        try {
          // The moment a plain subscribe() raced the ready check and lost the subscription.
          await new Promise<void>((resolve) => sub.once("connect", () => resolve()));
          const channel = `${testPrefix("handshake")}:events:x`;
          await subscribeWhenReady(sub, channel);
          expect(await subscriberCount(checker, channel)).toBe(1);
        } finally {
          sub.disconnect();
        }
      }
    } finally {
      checker.disconnect();
    }
  });

  it("rejects instead of waiting forever on a closed connection", async () => {
    const sub = createRedis(TEST_REDIS_URL, { role: "subscriber" });
    const waiting = whenReady(sub);
    sub.disconnect();
    await expect(waiting).rejects.toThrow(/closed/);
  });
});
