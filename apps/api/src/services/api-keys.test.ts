import { createRedis } from "@actlab/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_REDIS_URL } from "../../../../tests/support/index.js";
import { bearer, startTestApi, type TestApi } from "../__tests__/helpers.js";
import { buildApp } from "../app.js";
import {
  ApiKeyVerifier,
  createApiKey,
  ensureBootstrapKey,
  generateApiKey,
  hashApiKey,
  KEY_REVOKED_CHANNEL,
  revokeApiKey,
} from "./api-keys.js";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi("keys");
});
afterAll(async () => t?.close());

describe("API keys", () => {
  it("are random, stored only as a hash, and found by prefix", async () => {
    const a = generateApiKey();
    expect(a).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(a);
    const created = await createApiKey(t.database.db, { tenant: "hashes" });
    const row = await t.database.db.apiKey.findUnique({ where: { id: created.id } });
    expect(row!.hash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key);
    expect(row!.prefix).toBe(created.key.slice(0, 12));
  });

  it("revocation takes effect at once in a running API (pub/sub), even with the key cached", async () => {
    const { key } = await createApiKey(t.database.db, { tenant: "revoke-me" });
    const ok = await t.app.inject({ method: "GET", url: "/v1/experiments", headers: bearer(key) });
    expect(ok.statusCode).toBe(200);
    const prefixes = await revokeApiKey(t.database.db, key);
    const pub = createRedis(TEST_REDIS_URL, { role: "subscriber" });
    await pub.publish(KEY_REVOKED_CHANNEL, prefixes[0]!);
    pub.disconnect();
    await expect
      .poll(
        async () =>
          (await t.app.inject({ method: "GET", url: "/v1/experiments", headers: bearer(key) })).statusCode,
      )
      .toBe(401);
    expect(await revokeApiKey(t.database.db, key)).toEqual([]);
  });

  it.each(["prisma", "sql"])(
    "a verifier (%s) drops cached rows after its TTL (if a revocation message was missed)",
    async (via) => {
      let now = Date.UTC(2026, 0, 2, 3, 4, 5);
      const verifier = new ApiKeyVerifier(t.database.db, {
        ttlMs: 1_000,
        now: () => now,
        ...(via === "sql" ? { sql: t.app.sql } : {}),
      });
      const { key, tenantId, id } = await createApiKey(t.database.db, { tenant: `ttl-${via}` });
      expect(await verifier.verify(`${key.slice(0, 12)}${"x".repeat(31)}`)).toBeNull(); // right prefix, wrong key
      expect((await verifier.verify(key))?.tenantId).toBe(tenantId);
      await expect
        .poll(async () => (await t.database.db.apiKey.findUnique({ where: { id } }))?.lastUsedAt?.getTime())
        .toBe(now);
      expect((await verifier.verify(key))?.tenantId).toBe(tenantId);
      await revokeApiKey(t.database.db, key);
      expect(await verifier.verify(key)).not.toBeNull(); // cached
      now += 1_001;
      expect(await verifier.verify(key)).toBeNull();
      expect(await verifier.verify(`${key.slice(0, 12)}${"x".repeat(31)}`)).toBeNull();
    },
  );

  it("ACTLAB_BOOTSTRAP_API_KEY seeds tenant default at start, idempotently", async () => {
    const key = "bootstrap-key-for-tests-0123456789";
    const app = await buildApp({ env: { ...t.env, ACTLAB_BOOTSTRAP_API_KEY: key } });
    await app.ready();
    try {
      const res = await app.inject({ method: "GET", url: "/v1/experiments", headers: bearer(key) });
      expect(res.statusCode).toBe(200);
      const row = await t.database.db.apiKey.findUnique({
        where: { prefix: key.slice(0, 12) },
        include: { tenant: true },
      });
      expect(row!.tenant.name).toBe("default");
      expect(await ensureBootstrapKey(t.database.db, key)).toBe("exists");
      await revokeApiKey(t.database.db, key);
      expect(await ensureBootstrapKey(t.database.db, key)).toBe("revoked");
      await expect(
        ensureBootstrapKey(t.database.db, `${key.slice(0, 12)}-another-secret-value`),
      ).rejects.toThrow(/first 12 characters/);
    } finally {
      await app.close();
    }
  });
});
