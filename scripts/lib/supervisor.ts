// A small process supervisor for `npm start`: runs the API and N workers in one terminal,
// prints their JSON logs readably with a name per process, restarts a process that dies, and
// shuts everything down cleanly on Ctrl-C. (pm2 or concurrently could run them, but neither
// restarts one child of a group with backoff while keeping the group's exit semantics.)
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { prettyFactory } from "pino-pretty";

/** Exit code with which a process says "my configuration can never work" (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

const pretty = prettyFactory({
  colorize: process.stdout.isTTY ?? false,
  translateTime: "HH:MM:ss.l",
  ignore: "pid,hostname",
  singleLine: true,
});

function pipeLines(name: string, stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
  const rl = createInterface({ input: stream });
  rl.on("line", (line) => {
    const text = line.startsWith("{") ? pretty(line).trimEnd() : line;
    out.write(`[${name}] ${text}\n`);
  });
}

export class Supervisor {
  private children = new Map<string, ChildProcess>();
  private restarts = new Map<string, number>();
  private stopping = false;

  constructor(private readonly log: (line: string) => void = (l) => console.log(l)) {}

  start(spec: ProcessSpec): void {
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.children.set(spec.name, child);
    pipeLines(spec.name, child.stdout!, process.stdout);
    pipeLines(spec.name, child.stderr!, process.stderr);
    const startedAt = Date.now();
    child.on("exit", (code, signal) => {
      this.children.delete(spec.name);
      if (this.stopping) return;
      if (code === EXIT_CONFIG) {
        this.log(`[start] ${spec.name} refused to run (exit ${code}); not restarting it`);
        return;
      }
      // A process that ran a while before dying gets a fresh backoff.
      const n = Date.now() - startedAt > 60_000 ? 0 : (this.restarts.get(spec.name) ?? 0);
      this.restarts.set(spec.name, n + 1);
      const delay = Math.min(1000 * 2 ** n, 30_000);
      this.log(`[start] ${spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000}s`);
      setTimeout(() => !this.stopping && this.start(spec), delay).unref();
    });
  }

  /** SIGTERM to all, then SIGKILL to whatever is left after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    const alive = [...this.children.values()];
    const exited = alive.map(
      (c) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once("exit", () => r()))),
    );
    for (const c of alive) c.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const c of this.children.values()) c.kill("SIGKILL");
    }, graceMs);
    await Promise.all(exited);
    clearTimeout(timer);
  }

  get running(): string[] {
    return [...this.children.keys()];
  }
}
