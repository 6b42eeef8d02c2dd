import { describe, expect, it } from "vitest";
import { z } from "zod";
import { clusterPrefixProblem, EnvError, parseEnvWith, ZBaseEnv } from "./env.js";

describe("the shared environment", () => {
  it("has defaults that reach this machine's Postgres and Redis", () => {
    expect(parseEnvWith(ZBaseEnv, {})).toEqual({
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/actlab",
      REDIS_URL: "redis://127.0.0.1:6379",
      QUEUE_PREFIX: "actlab",
      LOG_LEVEL: "info",
    });
  });

  it("treats empty values as unset", () => {
    expect(parseEnvWith(ZBaseEnv, { QUEUE_PREFIX: "", LOG_LEVEL: "" })).toMatchObject({
      QUEUE_PREFIX: "actlab",
      LOG_LEVEL: "info",
    });
  });

  it("names every bad variable in one EnvError", () => {
    let error: unknown;
    try {
      parseEnvWith(ZBaseEnv, { DATABASE_URL: "mysql://x", REDIS_URL: "localhost:6379", LOG_LEVEL: "loud" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    const message = (error as EnvError).message;
    expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(message).toMatch(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL, or redis\+cluster/);
    expect(message).toMatch(/LOG_LEVEL/);
    expect(message).not.toMatch(/QUEUE_PREFIX/);
  });

  it("lets an app extend it and name a variable that came from a flag", () => {
    const schema = ZBaseEnv.extend({ DEVICE: z.enum(["cpu", "gpu"]).default("cpu") });
    expect(parseEnvWith(schema, { DEVICE: "gpu" }).DEVICE).toBe("gpu");
    expect(() =>
      parseEnvWith(schema, { DEVICE: "tpu" }, { label: (n) => (n === "DEVICE" ? "--device" : n) }),
    ).toThrow(/--device/);
  });
});

describe("Redis Cluster settings", () => {
  it("take a redis+cluster:// URL of seed nodes with a hash-tagged QUEUE_PREFIX", () => {
    const env = parseEnvWith(ZBaseEnv, {
      REDIS_URL: "redis+cluster://10.0.0.1:7000,10.0.0.2:7000",
      QUEUE_PREFIX: "{actlab}",
    });
    expect(env.REDIS_URL).toBe("redis+cluster://10.0.0.1:7000,10.0.0.2:7000");
    expect(clusterPrefixProblem("redis://x:6379", "actlab")).toBeNull();
  });

  it("refuse a cluster without a hash tag in QUEUE_PREFIX, saying which one to use", () => {
    expect(() => parseEnvWith(ZBaseEnv, { REDIS_URL: "redis+cluster://10.0.0.1:7000" })).toThrow(
      /QUEUE_PREFIX: must contain a hash tag on a Redis Cluster .* e\.g\. \{actlab\}/,
    );
    // Every app schema that lists both variables gets the rule through parseEnvWith.
    const app = z.object({ REDIS_URL: ZBaseEnv.shape.REDIS_URL, QUEUE_PREFIX: ZBaseEnv.shape.QUEUE_PREFIX });
    expect(() => parseEnvWith(app, { REDIS_URL: "rediss+cluster://h:1", QUEUE_PREFIX: "prod" })).toThrow(
      /\{prod\}/,
    );
  });
});
