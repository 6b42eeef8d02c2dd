import { describe, expect, it } from "vitest";
import { isPermanentError, withRetry } from "./retry.js";

describe("withRetry", () => {
  it("retries transient errors with backoff until the operation succeeds", async () => {
    let calls = 0;
    const retried: number[] = [];
    const value = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
        return "ok";
      },
      { baseMs: 1, onRetry: (_err, attempt) => retried.push(attempt) },
    );
    expect(value).toBe("ok");
    expect(calls).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it("gives up after `attempts` and rethrows the last error", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error(`blip ${calls}`);
        },
        { attempts: 4, baseMs: 1 },
      ),
    ).rejects.toThrow("blip 4");
    expect(calls).toBe(4);
  });

  it("does not retry errors about the data", async () => {
    let calls = 0;
    const unique = Object.assign(new Error("Unique constraint failed"), { code: "P2002" });
    await expect(
      withRetry(
        async () => {
          calls++;
          throw unique;
        },
        { baseMs: 1 },
      ),
    ).rejects.toBe(unique);
    expect(calls).toBe(1);
  });
});

describe("isPermanentError", () => {
  it("treats Prisma data errors as permanent, pool timeouts and conflicts as transient", () => {
    expect(isPermanentError(Object.assign(new Error(), { code: "P2025" }))).toBe(true);
    expect(isPermanentError(Object.assign(new Error(), { code: "P2024" }))).toBe(false);
    expect(isPermanentError(Object.assign(new Error(), { code: "P2034" }))).toBe(false);
    expect(isPermanentError(Object.assign(new Error(), { code: "P1001" }))).toBe(false);
    // "database is not accepting connections" through the pg driver adapter.
    expect(isPermanentError(Object.assign(new Error(), { code: "P2039" }))).toBe(false);
    expect(isPermanentError(Object.assign(new Error(), { permanent: true }))).toBe(true);
    expect(isPermanentError(new Error("socket hang up"))).toBe(false);
  });

  it("treats Postgres data and statement errors as permanent, connection and lock errors as transient", () => {
    expect(isPermanentError(Object.assign(new Error(), { code: "23505" }))).toBe(true); // unique_violation
    expect(isPermanentError(Object.assign(new Error(), { code: "22P02" }))).toBe(true); // invalid_text_representation
    expect(isPermanentError(Object.assign(new Error(), { code: "42703" }))).toBe(true); // undefined_column
    expect(isPermanentError(Object.assign(new Error(), { code: "40P01" }))).toBe(false); // deadlock_detected
    expect(isPermanentError(Object.assign(new Error(), { code: "57P01" }))).toBe(false); // admin_shutdown
    expect(isPermanentError(Object.assign(new Error(), { code: "ECONNREFUSED" }))).toBe(false);
  });
});
