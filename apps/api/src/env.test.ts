import { ZBaseEnv } from "@actlab/contracts/env";
import { describe, expect, it } from "vitest";
import { parseEnv, ZEnv } from "./env.js";

describe("parseEnv", () => {
  it("fills defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: "127.0.0.1",
      QUEUE_PREFIX: "actlab",
      RATE_LIMIT_MAX: 1200,
      AUTH_FAILURE_LIMIT: 60,
      AUTH_FAILURE_WINDOW_MS: 60_000,
      TRUST_PROXY: false,
    });
    expect(env.ACTLAB_BOOTSTRAP_API_KEY).toBeUndefined();
  });

  it("coerces numbers and treats empty values as unset", () => {
    expect(parseEnv({ PORT: "8080", RATE_LIMIT_MAX: "5", LOG_LEVEL: "", TRUST_PROXY: "1" })).toMatchObject({
      PORT: 8080,
      RATE_LIMIT_MAX: 5,
      LOG_LEVEL: "info",
      TRUST_PROXY: true,
    });
  });

  it("names every bad variable", () => {
    expect(() =>
      parseEnv({
        PORT: "http",
        DATABASE_URL: "mysql://x",
        ACTLAB_BOOTSTRAP_API_KEY: "short",
        LOG_LEVEL: "loud",
        AUTH_FAILURE_LIMIT: "0",
      }),
    ).toThrow(
      /PORT[\s\S]*DATABASE_URL: must be a postgres[\s\S]*ACTLAB_BOOTSTRAP_API_KEY: must be at least 16[\s\S]*LOG_LEVEL[\s\S]*AUTH_FAILURE_LIMIT/,
    );
  });

  it("reads the shared variables exactly as the base does", () => {
    for (const [name, schema] of Object.entries(ZBaseEnv.shape)) {
      expect(ZEnv.shape[name as keyof typeof ZEnv.shape], name).toBe(schema);
    }
  });
});
