import { describe, expect, it } from "vitest";
import { ZStartEnv } from "./env.js";

describe("npm start configuration", () => {
  it("has working defaults for this machine", () => {
    const env = ZStartEnv.parse({});
    expect(env.DATABASE_URL).toBe("postgresql://postgres@127.0.0.1:5432/actlab");
    expect(env.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(env.PORT).toBe(3000);
    expect(env.WORKERS).toBeGreaterThanOrEqual(1);
  });

  it("names the variable that is wrong", () => {
    const r = ZStartEnv.safeParse({ PORT: "eighty", WORKERS: "-1", REDIS_URL: "not a url" });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join(".")).sort()).toEqual(["PORT", "REDIS_URL", "WORKERS"]);
  });
});
