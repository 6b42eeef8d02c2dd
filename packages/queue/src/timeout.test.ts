import { describe, expect, it } from "vitest";
import { rejectAfter, resolveWithin, TimeoutError } from "./timeout.js";

const slow = <T>(value: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(value), ms));

describe("resolveWithin", () => {
  it("resolves undefined when the promise is too slow, else its value", async () => {
    expect(await resolveWithin(slow(1, 200), 10)).toBeUndefined();
    expect(await resolveWithin(Promise.resolve(2), 100)).toBe(2);
  });

  it("passes a rejection through", async () => {
    await expect(resolveWithin(Promise.reject(new Error("down")), 100)).rejects.toThrow("down");
  });
});

describe("rejectAfter", () => {
  it("rejects with a TimeoutError naming the call when the promise is too slow, else resolves", async () => {
    const err = await rejectAfter(slow(1, 200), 10, "enqueueing runs").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: "ETIMEDOUT", message: "enqueueing runs took longer than 10 ms" });
    expect(await rejectAfter(Promise.resolve(2), 100, "x")).toBe(2);
  });
});
