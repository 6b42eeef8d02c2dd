import { createRedis, publishCancel, pubsubChannels } from "@actlab/queue";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { TEST_REDIS_URL, testPrefix } from "../../../tests/support/index.js";
import { CancelWatcher } from "./cancel-watcher.js";

const pub = createRedis(TEST_REDIS_URL, { role: "producer" });
const watchers: CancelWatcher[] = [];
afterAll(async () => {
  for (const w of watchers) await w.close();
  pub.disconnect();
});

describe("cancel watcher", () => {
  it("stops runs on its own QUEUE_PREFIX's cancel channel only", async () => {
    const logger = pino({ level: "silent" });
    const [a, b] = [pubsubChannels(testPrefix("cancel-a")), pubsubChannels(testPrefix("cancel-b"))];
    const wa = await CancelWatcher.start({
      subscriber: createRedis(TEST_REDIS_URL, { role: "subscriber" }),
      logger,
      channels: a,
    });
    const wb = await CancelWatcher.start({
      subscriber: createRedis(TEST_REDIS_URL, { role: "subscriber" }),
      logger,
      channels: b,
    });
    watchers.push(wa, wb);
    // Both deployments hold a run with the same id (ids are UUIDs, but the channel must not rely on that).
    const stopped: string[] = [];
    wa.watch("run-1", () => stopped.push("a:run-1"));
    wb.watch("run-1", () => stopped.push("b:run-1"));
    wb.watch("run-2", () => stopped.push("b:run-2"));

    await publishCancel(pub, a, ["run-1"]);
    // Published after a's cancel on the same connection: once b hears it, b would have heard a's.
    await publishCancel(pub, b, ["run-2"]);
    await expect.poll(() => stopped.length, { timeout: 15_000 }).toBe(2);
    expect(stopped.sort()).toEqual(["a:run-1", "b:run-2"]);
  });
});
