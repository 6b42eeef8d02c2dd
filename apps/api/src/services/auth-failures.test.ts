import { createRedis } from "@actlab/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPrefix } from "../../../../tests/support/index.js";
import { bearer, startTestApi, type TestApi } from "../__tests__/helpers.js";
import { buildApp } from "../app.js";
import { createApiKey, generateApiKey } from "./api-keys.js";
import { AuthFailureLimiter, clientKey } from "./auth-failures.js";

const LIMIT = 5;
let t: TestApi;
/** Key lookups that reached Postgres (the verifier's query through the app's Kysely). */
let lookups = 0;

beforeAll(async () => {
  t = await startTestApi("authfail", { AUTH_FAILURE_LIMIT: String(LIMIT), AUTH_FAILURE_WINDOW_MS: "60000" });
  // Counts the key lookups and passes every query on.
  const { kysely } = t.app.db;
  const execute = kysely.executeQuery.bind(kysely);
  kysely.executeQuery = ((query) => {
    const { sql } = "sql" in query ? query : query.compile();
    if (/from "api_keys" where "prefix" =/.test(sql)) lookups++;
    return execute(query);
  }) as typeof kysely.executeQuery;
}, 60_000);
afterAll(async () => t?.close());

const get = (key: string | null, from: string, app = t.app) =>
  app.inject({
    method: "GET",
    url: "/v1/presets",
    headers: key === null ? {} : bearer(key),
    remoteAddress: from,
  });

describe("failed API-key attempts per client address", () => {
  it("the (limit + 1)th made-up key from one address is a 429 that never reaches Postgres", async () => {
    const from = "203.0.113.7";
    const before = lookups;
    for (let i = 0; i < LIMIT; i++) expect((await get(generateApiKey(), from)).statusCode).toBe(401);
    expect(lookups - before).toBe(LIMIT);

    const refused = await Promise.all(Array.from({ length: 20 }, () => get(generateApiKey(), from)));
    expect(refused.map((r) => r.statusCode)).toEqual(Array(20).fill(429));
    expect(lookups - before).toBe(LIMIT); // not one more lookup
    const r = refused[0]!;
    expect(r.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(r.json()).toMatchObject({ type: "/problems/too-many-auth-failures", status: 429 });
    const retryAfter = Number(r.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Another address is not affected; nor is a request without a key (it costs no lookup).
    expect((await get(generateApiKey(), "203.0.113.8")).statusCode).toBe(401);
    expect((await get(null, from)).statusCode).toBe(401);

    // Another API process on the same Redis and QUEUE_PREFIX refuses that address too.
    const second = await buildApp({ env: t.env });
    try {
      expect((await get(generateApiKey(), from, second)).statusCode).toBe(429);
    } finally {
      await second.close();
    }
  });

  it("a valid key from a blocked address still works once this process has seen it valid", async () => {
    const from = "198.51.100.20";
    const { key: seen } = await createApiKey(t.database.db, { tenant: "shares-an-office" });
    const { key: unseen } = await createApiKey(t.database.db, { tenant: "shares-an-office" });
    expect((await get(seen, "198.51.100.99")).statusCode).toBe(200); // used before, from anywhere
    for (let i = 0; i <= LIMIT; i++) await get(generateApiKey(), from);
    expect((await get(generateApiKey(), from)).statusCode).toBe(429);

    expect((await get(seen, from)).statusCode).toBe(200);
    // The documented price: a valid key this process has never seen, from the blocked address,
    // cannot be told from a made-up one without a lookup, so it waits for the window too…
    expect((await get(unseen, from)).statusCode).toBe(429);
    // …while it works at once from anywhere else, and then from the blocked address as well.
    expect((await get(unseen, "198.51.100.21")).statusCode).toBe(200);
    expect((await get(unseen, from)).statusCode).toBe(200);
  });

  it("counts failures only: valid keys looked up for the first time do not use up the limit", async () => {
    const from = "198.51.100.30";
    for (let i = 0; i < 3 * LIMIT; i++) {
      const { key } = await createApiKey(t.database.db, { tenant: `new-keys-${i}` });
      expect((await get(key, from)).statusCode).toBe(200);
    }
    for (let i = 0; i < LIMIT; i++) expect((await get(generateApiKey(), from)).statusCode).toBe(401);
    expect((await get(generateApiKey(), from)).statusCode).toBe(429);
  });

  it("simultaneous guesses cannot slip past the limit", async () => {
    const res = await Promise.all(Array.from({ length: 40 }, () => get(generateApiKey(), "198.51.100.40")));
    const statuses = res.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40 - LIMIT);
  });

  it("counts IPv6 clients per /64", async () => {
    for (let i = 0; i < LIMIT; i++) await get(generateApiKey(), `2001:db8:7:1::${i + 1}`);
    expect((await get(generateApiKey(), "2001:db8:7:1:ffff:1:2:3")).statusCode).toBe(429);
    expect((await get(generateApiKey(), "2001:db8:7:2::1")).statusCode).toBe(401);
  });
});

describe("the failure window", () => {
  let short: TestApi;
  beforeAll(async () => {
    short = await startTestApi("authwin", { AUTH_FAILURE_LIMIT: "2", AUTH_FAILURE_WINDOW_MS: "4000" });
  }, 60_000);
  afterAll(async () => short?.close());

  it("ends: after Retry-After the address gets its lookups back", async () => {
    const from = "192.0.2.50";
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(generateApiKey(), from, short.app)).statusCode);
    expect(statuses).toEqual([401, 401, 429]);
    await expect
      .poll(async () => (await get(generateApiKey(), from, short.app)).statusCode, {
        timeout: 20_000,
        interval: 250,
      })
      .toBe(401);
  });
});

describe("clientKey", () => {
  it("keeps IPv4, unwraps IPv4-mapped IPv6 and groups IPv6 by /64", () => {
    expect(clientKey("203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("2001:db8:7:1::1")).toBe("2001:db8:7:1::/64");
    expect(clientKey("2001:0db8:0007:0001:ffff:1:2:3")).toBe("2001:db8:7:1::/64");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
    expect(clientKey("not an address")).toBe("not-an-ip");
  });
});

describe("AuthFailureLimiter without Redis", () => {
  it("lets requests through (fails open) within its Redis timeout", async () => {
    const down = createRedis("redis://127.0.0.1:1", { role: "producer" });
    try {
      const limiter = new AuthFailureLimiter(down, {
        prefix: testPrefix("authdown"),
        limit: 1,
        windowMs: 60_000,
        redisTimeoutMs: 500,
      });
      const started = Date.now();
      for (let i = 0; i < 3; i++)
        expect(await limiter.take("192.0.2.1")).toEqual({ blocked: false, counted: false });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      down.disconnect();
    }
  });
});
