import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createRedis, publishKeyRevoked } from "@actlab/queue";
import { describe, expect, it } from "vitest";
import { TEST_REDIS_URL } from "../../../../tests/support/index.js";
import { bearer, startTestApi, type TestApi, testApiForFile } from "../__tests__/helpers.js";
import { buildApp } from "../app.js";
import {
  ApiKeyVerifier,
  createApiKey,
  ensureBootstrapKey,
  generateApiKey,
  hashApiKey,
  revokeApiKey,
} from "./api-keys.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

const t = testApiForFile("keys");

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

  it("`apikey revoke` takes effect at once in the APIs of its QUEUE_PREFIX only, even with the key cached", async () => {
    // A second deployment on the same Redis, holding the same key in its own database.
    const u = await startTestApi("keys2");
    try {
      const { key } = await createApiKey(t.database.db, { tenant: "revoke-me" });
      await createApiKey(u.database.db, { tenant: "revoke-me", key });
      const status = async (api: TestApi) =>
        (await api.app.inject({ method: "GET", url: "/v1/experiments", headers: bearer(key) })).statusCode;
      expect([await status(t), await status(u)]).toEqual([200, 200]); // both cache it now
      // Revoked in u's database without telling u: u keeps serving it from its cache…
      expect(await revokeApiKey(u.database.db, key)).toHaveLength(1);
      // …and the operator CLI revokes it in t's deployment (t's database and QUEUE_PREFIX).
      const cli = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "--conditions=source", `${ROOT}/apps/api/src/cli/apikey.ts`, "revoke", key],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            DATABASE_URL: t.env.DATABASE_URL,
            REDIS_URL: TEST_REDIS_URL,
            QUEUE_PREFIX: t.prefix,
          },
        },
      );
      expect(cli.stdout).toContain(`revoked ${key.slice(0, 12)}`);
      expect(cli.stderr).toBe("");
      await expect.poll(() => status(t), { timeout: 15_000 }).toBe(401);
      // u did not hear t's revocation (it would answer 401 from its database if it had)…
      expect(await status(u)).toBe(200);
      // …and does hear its own channel.
      const pub = createRedis(TEST_REDIS_URL, { role: "subscriber" });
      await publishKeyRevoked(pub, u.app.channels, key.slice(0, 12));
      pub.disconnect();
      await expect.poll(() => status(u), { timeout: 15_000 }).toBe(401);
      expect(await revokeApiKey(t.database.db, key)).toEqual([]);
    } finally {
      await u.close();
    }
  }, 60_000);

  it("a verifier drops cached rows after its TTL (if a revocation message was missed)", async () => {
    let now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const verifier = new ApiKeyVerifier(t.database.db, { ttlMs: 1_000, now: () => now });
    const { key, tenantId, id } = await createApiKey(t.database.db, { tenant: "ttl" });
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
  });

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
