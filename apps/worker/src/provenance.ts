import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TProvenance } from "@actlab/contracts";
import type { BackendDescription } from "@actlab/trainer";

const run = promisify(execFile);

/** The repository root (apps/worker/src or apps/worker/dist, two levels down). */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** actlab's version: the root package.json's. */
function readVersion(root: string): string {
  try {
    return (
      (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version?: string }).version ?? "unknown"
    );
  } catch {
    return "unknown";
  }
}

/**
 * The checkout's commit and whether tracked files have uncommitted changes, from git itself (so
 * worktrees and packed refs work); both null where there is no git or no repository (an image
 * built without .git: ACTLAB_COMMIT names the commit there).
 */
export async function readGitState(dir: string): Promise<{ commit: string | null; dirty: boolean | null }> {
  const git = (...args: string[]) => run("git", args, { cwd: dir, timeout: 3_000, windowsHide: true });
  try {
    const { stdout } = await git("rev-parse", "--verify", "HEAD");
    const commit = stdout.trim();
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return { commit: null, dirty: null };
    let dirty: boolean | null = null;
    try {
      dirty = (await git("status", "--porcelain", "--untracked-files=no")).stdout.trim() !== "";
    } catch {
      // A read-only checkout can fail to refresh the index; the commit is still right.
    }
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

/**
 * What this worker process trains with, read once at start and recorded on every run it starts
 * (startRun): actlab's version and commit, the engine, Node, the CPU and who ran it.
 */
export async function collectProvenance({
  engine,
  workerId,
  commit,
  root = ROOT,
}: {
  engine: BackendDescription;
  workerId: string;
  /** ACTLAB_COMMIT: wins over git (an image knows its commit, not its .git). */
  commit?: string;
  root?: string;
}): Promise<TProvenance> {
  const git = commit ? { commit, dirty: null } : await readGitState(root);
  return {
    actlab: { version: readVersion(root), ...git },
    backend: engine,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: { model: cpus()[0]?.model.trim() || "unknown", cores: availableParallelism() },
    worker: { id: workerId, hostname: hostname() },
  };
}
