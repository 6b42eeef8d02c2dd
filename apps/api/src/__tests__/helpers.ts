import { createRedis } from "@actlab/queue";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll } from "vitest";
import {
  createTestDatabase,
  deletePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from "../../../../tests/support/index.js";
import { buildApp } from "../app.js";
import { parseEnv, type TEnv } from "../env.js";
import { createApiKey } from "../services/api-keys.js";

export interface TestApi {
  app: FastifyInstance;
  database: TestDatabase;
  env: TEnv;
  prefix: string;
  /** Two tenants, so every route can be checked for isolation. */
  keyA: string;
  keyB: string;
  tenantA: string;
  tenantB: string;
  close(): Promise<void>;
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A request through the app (no socket) as the tenant of `key` (tenant A unless told). */
export function request(
  t: TestApi,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  url: string,
  {
    key = t.keyA,
    payload,
    headers,
  }: { key?: string; payload?: unknown; headers?: Record<string, string> } = {},
) {
  return t.app.inject({
    method,
    url,
    headers: { ...bearer(key), ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

/** A real app on a fresh database and its own BullMQ prefix (no worker consumes it). */
export async function startTestApi(label: string, env: Record<string, string> = {}): Promise<TestApi> {
  const database = await createTestDatabase(label);
  const prefix = testPrefix(label);
  const parsed = parseEnv({
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: "silent",
    DASHBOARD_DIR: "/nonexistent-dashboard",
    ...env,
  });
  // API_TEST_LOG=1 prints the app's error logs while debugging a test.
  const app = await buildApp({ env: parsed, logger: process.env.API_TEST_LOG ? { level: "warn" } : false });
  await app.ready();
  const a = await createApiKey(database.db, { tenant: `a-${prefix}` });
  const b = await createApiKey(database.db, { tenant: `b-${prefix}` });
  return {
    app,
    database,
    env: parsed,
    prefix,
    keyA: a.key,
    keyB: b.key,
    tenantA: a.tenantId,
    tenantB: b.tenantId,
    async close() {
      await app.close();
      const redis = createRedis(TEST_REDIS_URL, { role: "worker" });
      await deletePrefix(redis, prefix);
      redis.disconnect();
      await database.drop();
    },
  };
}

/**
 * The test API of one test file: started before its tests, closed after them. Its fields are
 * there once the tests run (not while the file is being collected).
 */
export function testApiForFile(label: string, env: Record<string, string> = {}): TestApi {
  const api = {} as TestApi;
  beforeAll(async () => {
    Object.assign(api, await startTestApi(label, env));
  });
  afterAll(async () => api.close?.());
  return api;
}

export const SMALL_SPEC = {
  name: "small",
  dataset: { samples: 200 },
  model: { hiddenLayers: 2, units: 8 },
  variants: [{ activation: "relu" }, { activation: "sigmoid" }],
  training: { epochs: 2, repeats: 2, batchSize: 50 },
};
