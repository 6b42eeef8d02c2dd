import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const CLI_MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the output so far satisfies `pred` (rejects if the process exits first). */
  waitForOutput(
    pred: (out: { stdout: string; stderr: string }) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  done: Promise<CliResult>;
}

/** The CLI's own environment only: the test's config dir and API address, nothing of the caller's. */
function cliEnv(env: Record<string, string>) {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env };
}

/** Starts `actlab <args>` from source as a real process, with piped stdio (not a terminal). */
export function startCli(
  args: string[],
  { env = {}, input }: { env?: Record<string, string>; input?: string } = {},
): CliProcess {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", CLI_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: cliEnv(env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (d) => {
    stdout += d;
    for (const l of listeners) l();
  });
  child.stderr!.on("data", (d) => {
    stderr += d;
    for (const l of listeners) l();
  });
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  const done = once(child, "exit").then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForOutput(pred, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pred({ stdout, stderr })) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`output not seen within ${timeoutMs} ms:\nstdout:\n${stdout}\nstderr:\n${stderr}`),
          );
        }, timeoutMs);
        listeners.add(check);
        void done.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`actlab exited first:\nstdout:\n${stdout}\nstderr:\n${stderr}`));
          }
        });
        check();
      });
    },
  };
}

export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  return startCli(args, opts).done;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Runs `actlab <args>` in a real pseudo-terminal (util-linux `script`), as a user at a terminal
 * would: stdout and stderr are TTYs, so progress bars are drawn. Returns everything the terminal
 * received (ANSI sequences included) and the command's exit code (`script -e`).
 */
export async function runCliInTerminal(args: string[], { env = {} }: { env?: Record<string, string> } = {}) {
  const command = [process.execPath, "--conditions=source", "--import", "tsx", CLI_MAIN, ...args]
    .map(shellQuote)
    .join(" ");
  const child = spawn("script", ["-qefc", command, "/dev/null"], {
    cwd: REPO_ROOT,
    env: { ...cliEnv(env), TERM: "xterm-256color", COLUMNS: "120", LINES: "40" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let screen = "";
  child.stdout!.on("data", (d) => {
    screen += d;
  });
  child.stderr!.on("data", (d) => {
    screen += d;
  });
  const [code] = await once(child, "exit");
  return { code: code as number | null, screen };
}
