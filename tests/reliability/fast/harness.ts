import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { storeTrainedModel } from "../../../apps/api/src/__tests__/trained-model.js";
import { buildApp } from "../../../apps/api/src/app.js";
import { parseEnv } from "../../../apps/api/src/env.js";
import { apiLoggerOptions } from "../../../apps/api/src/logger.js";
import { createApiKey, revokeApiKey } from "../../../apps/api/src/services/api-keys.js";
import { createRedis } from "../../../packages/queue/src/index.js";
import { createTestDatabase, deletePrefix, TEST_REDIS_URL, testPrefix } from "../../support/index.js";
import { digestOf, targetOf, validSpec } from "../support/fuzz.js";

/**
 * The API in this process (buildApp, listening on a free loopback port, so requests go through
 * real HTTP parsing), on its own database and BullMQ prefix, with its log lines captured: two
 * tenants, a revoked key, a finished experiment whose run has a really trained model (trained
 * here with @actlab/trainer, stored as the worker would), and the other tenant's experiment.
 */
export async function startInProcess(label: string, env: Record<string, string> = {}) {
  const database = await createTestDatabase(label);
  const prefix = testPrefix(label);
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const bootstrap =
    `boot_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`.padEnd(30, "x");
  const parsed = parseEnv({
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: "info",
    DASHBOARD_DIR: "/nonexistent-dashboard",
    ACTLAB_BOOTSTRAP_API_KEY: bootstrap,
    RATE_LIMIT_MAX: "1000000",
    AUTH_FAILURE_LIMIT: "1000000", // the fuzz sends odd keys on purpose; the security test sets its own
    ...env,
  });
  // The server's own logger options (redaction, no query strings), writing to memory.
  const app = await buildApp({ env: parsed, logger: apiLoggerOptions("info", stream) });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const db = database.db;
  const own = await createApiKey(db, { tenant: `own-${prefix}` });
  const other = await createApiKey(db, { tenant: `other-${prefix}` });
  const revoked = await createApiKey(db, { tenant: `own-${prefix}`, name: "revoked" });
  await revokeApiKey(db, revoked.key);

  const post = async (key: string, body: unknown) => {
    const res = await fetch(`${baseUrl}/v1/experiments`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 202) throw new Error(`POST /v1/experiments: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; runs: Array<{ id: string }> };
  };
  const mine = await post(own.key, validSpec("target"));
  const theirs = await post(other.key, validSpec("theirs"));
  const runId = mine.runs[0]!.id;
  await storeTrainedModel(db, { runId, spec: validSpec("target"), seed: 1 });
  await db.experiment.update({
    where: { id: mine.id },
    data: { status: "succeeded", finishedAt: new Date() },
  });

  const sql = new pg.Pool({ connectionString: database.url, max: 2 });
  const target = targetOf(
    { baseUrl, apiKey: own.key },
    { otherKey: other.key, revokedKey: revoked.key, mine, theirs, digest: digestOf(sql) },
  );
  return {
    app,
    db,
    target,
    logs,
    keys: [own.key, other.key, revoked.key, bootstrap],
    async close() {
      await app.close();
      await sql.end();
      const redis = createRedis(TEST_REDIS_URL, { role: "worker" });
      await deletePrefix(redis, prefix);
      redis.disconnect();
      await database.drop();
    },
  };
}

/** `startInProcess` for a whole test file: started before its tests, closed after them. */
export function inProcessForFile(label: string) {
  const ref: { h?: Awaited<ReturnType<typeof startInProcess>> } = {};
  beforeAll(async () => {
    ref.h = await startInProcess(label);
  }, 60_000);
  afterAll(async () => ref.h?.close());
  return () => {
    if (!ref.h) throw new Error(`the in-process API "${label}" did not start`);
    return ref.h;
  };
}
