import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { z } from "zod";
import { ZEnv as ZApiEnv } from "../../apps/api/src/env.js";
import { ZEnv as ZWorkerEnv } from "../../apps/worker/src/env.js";
import { parseEnvWith, ZBaseEnv } from "../../packages/contracts/src/env.js";
import { loadDotEnv, ZStartEnv } from "./env.js";

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

  it("checks the bootstrap key as the API will", () => {
    const r = ZStartEnv.safeParse({ ACTLAB_BOOTSTRAP_API_KEY: "a key with spaces in it" });
    expect(r.error?.issues.map((i) => i.message)).toEqual([expect.stringMatching(/spaces/)]);
  });
});

describe(".env", () => {
  const names = ["ACTLAB_DOTENV_TEST_A", "ACTLAB_DOTENV_TEST_B"];
  afterEach(() => {
    for (const n of names) delete process.env[n];
  });

  it("is read into the environment without overriding what is already set", () => {
    const file = join(mkdtempSync(join(tmpdir(), "actlab-env-")), ".env");
    writeFileSync(file, "ACTLAB_DOTENV_TEST_A=from-file\nACTLAB_DOTENV_TEST_B=from-file\n");
    process.env.ACTLAB_DOTENV_TEST_A = "from-environment";
    expect(loadDotEnv(file)).toBe(true);
    expect(process.env.ACTLAB_DOTENV_TEST_A).toBe("from-environment");
    expect(process.env.ACTLAB_DOTENV_TEST_B).toBe("from-file");
    expect(loadDotEnv(join(file, "..", "missing.env"))).toBe(false);
  });
});

describe(".env.example", () => {
  const lines = readFileSync(new URL("../../.env.example", import.meta.url), "utf8").split("\n");
  const shown = lines.flatMap((l) => {
    const m = /^# ([A-Z][A-Z0-9_]*)=(.*)$/.exec(l);
    return m ? [{ name: m[1] as string, value: m[2] as string }] : [];
  });
  const schemas: z.ZodObject[] = [ZBaseEnv, ZStartEnv, ZApiEnv, ZWorkerEnv];

  it("lists every variable of every process, once", () => {
    const all = new Set(schemas.flatMap((s) => Object.keys(s.shape)));
    expect(shown.map((v) => v.name).sort()).toEqual([...all].sort());
  });

  it("shows each default as the processes have it", () => {
    for (const { name, value } of shown.filter((v) => v.value !== "")) {
      for (const schema of schemas.filter((s) => name in s.shape)) {
        expect(parseEnvWith(schema, { [name]: value })[name], name).toEqual(parseEnvWith(schema, {})[name]);
      }
    }
  });
});
