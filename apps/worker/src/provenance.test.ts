import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ZProvenance } from "@actlab/contracts";
import { describeBackend, initBackend } from "@actlab/trainer";
import { afterAll, describe, expect, it } from "vitest";
import { collectProvenance, readGitState } from "./provenance.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const bare = mkdtempSync(join(tmpdir(), "actlab-provenance-"));
writeFileSync(join(bare, "package.json"), JSON.stringify({ name: "actlab", version: "9.8.7" }));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

describe("provenance", () => {
  it("records actlab's version and commit, the backend with its version, Node, the CPU and the worker", async () => {
    await initBackend({ device: "cpu", force: "cpu" });
    const engine = await describeBackend();
    expect(engine).toEqual({ name: "cpu", version: expect.stringMatching(/^\d+\.\d+\.\d+/), libraries: [] });
    const p = ZProvenance.parse(await collectProvenance({ engine, workerId: "w-1" }));
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    expect(p.actlab).toEqual({ version: "0.1.0", commit: head, dirty: expect.any(Boolean) });
    expect(p.backend).toEqual(engine);
    expect(p.node).toBe(process.version);
    expect(p.platform).toBe(`${process.platform}-${process.arch}`);
    expect(p.cpu.model.length).toBeGreaterThan(0);
    expect(p.cpu.cores).toBeGreaterThan(0);
    expect(p.worker).toEqual({ id: "w-1", hostname: hostname() });
  });

  it("names the native engine with the OpenBLAS it loaded: version, the core it chose, threads", async () => {
    await initBackend({ device: "cpu", force: "native" });
    const engine = await describeBackend();
    expect(engine).toEqual({
      name: "native",
      version: "0.1.0",
      libraries: [
        {
          name: "OpenBLAS",
          version: expect.stringMatching(/^\d+\.\d+/),
          core: expect.stringMatching(/\S/),
          threads: expect.any(Number),
        },
      ],
    });
    expect(engine.libraries[0]!.threads).toBeGreaterThanOrEqual(1);
  });

  it("works without a .git directory: the commit is unknown, or ACTLAB_COMMIT's", async () => {
    expect(await readGitState(bare)).toEqual({ commit: null, dirty: null });
    const engine = { name: "wasm", version: "4.22.0", libraries: [] };
    const unknown = await collectProvenance({ engine, workerId: "w", root: `${bare}/` });
    expect(unknown.actlab).toEqual({ version: "9.8.7", commit: null, dirty: null });
    const given = await collectProvenance({ engine, workerId: "w", root: `${bare}/`, commit: "abc1234" });
    expect(given.actlab).toEqual({ version: "9.8.7", commit: "abc1234", dirty: null });
    ZProvenance.parse(given);
  });
});
