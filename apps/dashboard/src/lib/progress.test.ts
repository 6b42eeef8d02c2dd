import { describe, expect, it } from "vitest";
import { count, countByStatus, runCountsText, runsProgress } from "./progress.js";
import { resumedText, staleText } from "./runState.js";

const run = (
  status: "succeeded" | "canceled" | "failed" | "running" | "queued",
  epoch: number,
  epochs = 10,
) => ({
  status,
  progress: { epoch, epochs },
});

describe("progress of an experiment's runs", () => {
  it("counts a canceled or failed run by the epochs it trained, never as complete", () => {
    expect(runsProgress([run("succeeded", 10), run("canceled", 3), run("canceled", 0)])).toBeCloseTo(13 / 30);
    expect(runsProgress([run("failed", 5), run("running", 5)])).toBeCloseTo(0.5);
    expect(runsProgress([run("succeeded", 10), run("succeeded", 10)])).toBe(1);
  });

  it("says how many runs succeeded and names the canceled and failed ones", () => {
    const counts = countByStatus([
      run("succeeded", 10),
      run("canceled", 3),
      run("canceled", 0),
      run("failed", 1),
    ]);
    expect(runCountsText(counts)).toBe("1 of 4 runs succeeded · 2 canceled · 1 failed");
    expect(runCountsText({ succeeded: 1 })).toBe("1 of 1 run succeeded");
    expect(runCountsText({})).toBeNull();
  });

  it("uses the singular for one", () => {
    expect(count(1, "epoch")).toBe("1 epoch");
    expect(count(1000, "epoch")).toBe("1,000 epochs");
  });
});

describe("run states beyond the status", () => {
  const base = { status: "running" as const, updatedAt: "2026-12-02T10:00:00.000Z" };
  it("says how long a stale run has been silent and what happens next", () => {
    const now = Date.parse("2026-12-02T10:00:25.000Z");
    expect(staleText({ ...base, stale: true }, now)).toBe(
      "no update for 25 s — another worker will resume it from its checkpoint",
    );
    expect(staleText({ ...base, stale: true }, now - 19_000)).toMatch(/^no update for 6 s /);
    expect(staleText({ ...base, stale: false }, now)).toBeNull();
    expect(staleText({ ...base, status: "succeeded", stale: true }, now)).toBeNull();
  });

  it("says which epoch a later attempt resumed from", () => {
    expect(resumedText({ attempts: 2, resumedFromEpoch: 7 })).toBe("resumed from epoch 7");
    expect(resumedText({ attempts: 2, resumedFromEpoch: 0 })).toMatch(/first epoch/);
    expect(resumedText({ attempts: 1, resumedFromEpoch: 0 })).toBeNull();
  });
});
