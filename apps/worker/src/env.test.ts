import { ZBaseEnv } from "@actlab/contracts/env";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv, ZEnv } from "./env.js";

describe("parseEnv", () => {
  it("applies defaults that restart a killed worker's run within 60 s", () => {
    const env = parseEnv({});
    expect(env.WORKER_DEVICE).toBe("cpu");
    expect(env.QUEUE_PREFIX).toBe("actlab");
    expect(env.WORKER_LOCK_DURATION_MS + 2 * env.WORKER_STALLED_INTERVAL_MS).toBeLessThanOrEqual(60_000);
    expect(env.WORKER_ID).toMatch(/:\d+:/);
  });

  it("prefixes the generated worker id with WORKER_NAME, unique per process start", () => {
    const a = parseEnv({ WORKER_NAME: "worker-2" });
    const b = parseEnv({ WORKER_NAME: "worker-2" });
    expect(a.WORKER_ID).toMatch(new RegExp(`^worker-2:${process.pid}:`));
    expect(a.WORKER_ID).not.toBe(b.WORKER_ID);
    expect(parseEnv({ WORKER_ID: "fixed" }).WORKER_ID).toBe("fixed");
  });

  it("takes the device from --device over WORKER_DEVICE", () => {
    expect(parseEnv({ WORKER_DEVICE: "cpu" }, ["--device", "gpu"]).WORKER_DEVICE).toBe("gpu");
    expect(parseEnv({ WORKER_DEVICE: "gpu" }).WORKER_DEVICE).toBe("gpu");
    expect(parseEnv({ WORKER_DEVICE: "" }).WORKER_DEVICE).toBe("cpu");
  });

  it("names the bad flag or variable", () => {
    expect(() => parseEnv({}, ["--device", "tpu"])).toThrow(/--device/);
    expect(() => parseEnv({}, ["--gpu"])).toThrow(EnvError);
    expect(() => parseEnv({ REDIS_URL: "localhost:6379" })).toThrow(/REDIS_URL/);
    expect(() => parseEnv({ METRICS_PORT: "http" })).toThrow(/METRICS_PORT/);
  });

  it("rejects stalled-job settings that would restart a killed run later than 60 s", () => {
    expect(() => parseEnv({ WORKER_LOCK_DURATION_MS: "30000", WORKER_STALLED_INTERVAL_MS: "20000" })).toThrow(
      /longer than 60 s/,
    );
  });

  it("rejects a reconciler staleness shorter than three heartbeats", () => {
    expect(() => parseEnv({ HEARTBEAT_MS: "10000", RECONCILE_STALE_MS: "20000" })).toThrow(/HEARTBEAT_MS/);
  });

  it("reads the shared variables exactly as the base does", () => {
    for (const [name, schema] of Object.entries(ZBaseEnv.shape)) {
      expect(ZEnv.shape[name as keyof typeof ZEnv.shape], name).toBe(schema);
    }
  });
});
