import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { TenantTurns } from "./tenant-turns.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("TenantTurns", () => {
  it("runs one task per tenant at a time, different tenants at once, and forgets idle tenants", async () => {
    const turns = new TenantTurns();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([
      turns.run("a", task("a1", 30)),
      turns.run("a", task("a2", 1)),
      turns.run("b", task("b1", 1)),
    ]);
    expect(results).toEqual(["a1", "a2", "b1"]);
    // b1 ran while a1 held a's turn; a2 only after a1 ended.
    expect(log.indexOf("end b1")).toBeLessThan(log.indexOf("end a1"));
    expect(log.indexOf("start a2")).toBeGreaterThan(log.indexOf("end a1"));
    expect(turns.busyTenants).toBe(0);
  });

  it("a failing task releases the turn", async () => {
    const turns = new TenantTurns();
    await expect(turns.run("a", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(turns.run("a", async () => 1)).resolves.toBe(1);
    expect(turns.busyTenants).toBe(0);
  });

  it("a wait longer than its bound is a 503 with Retry-After, and the queue goes on", async () => {
    const turns = new TenantTurns(50);
    let release!: () => void;
    const first = turns.run("a", () => new Promise<string>((r) => (release = () => r("first"))));
    const err = await turns.run("a", async () => "never").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).statusCode).toBe(503);
    expect((err as AppError).headers["retry-after"]).toBe("5");
    release();
    expect(await first).toBe("first");
    await expect(turns.run("a", async () => "after")).resolves.toBe("after");
    expect(turns.busyTenants).toBe(0);
  });
});
