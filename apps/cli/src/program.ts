import { Command, CommanderError } from "commander";
import {
  cancelCommand,
  listCommand,
  presetsCommand,
  reportCommand,
  showCommand,
  waitCommand,
} from "./commands/experiments.js";
import { loginCommand } from "./commands/login.js";
import { submitCommand, watchCommand } from "./commands/submit.js";
import { type Context, createContext, type GlobalOptions } from "./context.js";
import type { TCliEnv } from "./env.js";
import { EXIT, reportError, stdio } from "./output.js";

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * Runs `actlab …` with these arguments and returns the exit code (main.ts sets it). SIGINT
 * (Ctrl-C) aborts `signal`: a watch stops watching, and nothing on the server is touched.
 */
export async function runCli(argv: string[], env: TCliEnv, signal: AbortSignal): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command("actlab")
    .description("Submit and follow actlab experiments (training-as-a-service for activation functions)")
    .option(
      "--api-url <url>",
      "where the API is (default: ACTLAB_API_URL, the stored login, http://127.0.0.1:3000)",
    )
    .option("--json", "print JSON for scripts instead of tables and progress bars")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError();

  /** Wraps a command's action: builds its context and turns what it throws into an exit code. */
  const act =
    <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const globals = command.optsWithGlobals<GlobalOptions>();
      try {
        code = await fn(createContext(env, globals), ...(args.slice(0, -1) as A));
      } catch (err) {
        code = reportError(stdio(Boolean(globals.json)), err);
      }
    };

  program
    .command("login")
    .description("store an API key (asked for, piped in, or ACTLAB_API_KEY) for --api-url, mode 0600")
    .action(act((ctx) => loginCommand(ctx)));

  program
    .command("submit")
    .description("submit an experiment from a spec file and/or a preset")
    .argument("[spec]", "JSON spec file (- for standard input)")
    .option("--preset <name>", "start from a preset (actlab presets lists them), e.g. chapter8-keras")
    .option("--set <path=value>", "override one field, e.g. training.epochs=30 (repeatable)", collect, [])
    .option("--name <name>", "the experiment's name")
    .option("--idempotency-key <key>", "send again with the same key to get the same experiment back")
    .option("--watch", "follow it with one progress bar per run until it finishes")
    .action(
      act((ctx, spec: string | undefined, opts: Parameters<typeof submitCommand>[2]) =>
        submitCommand(ctx, spec, opts, signal),
      ),
    );

  program
    .command("watch")
    .description("follow an experiment with one progress bar per run (Ctrl-C stops watching, not training)")
    .argument("<id>")
    .action(act((ctx, id: string) => watchCommand(ctx, id, signal)));

  program
    .command("presets")
    .description("the ready-made experiments --preset takes")
    .action(act((ctx) => presetsCommand(ctx)));

  program
    .command("ls")
    .description("list experiments, newest first")
    .option("--status <statuses>", "comma-separated: queued,running,succeeded,failed,canceled,partial")
    .option("--limit <n>", "how many (1-100, default 20)")
    .option("--cursor <cursor>", "the next page, as printed after the list")
    .action(act((ctx, opts: Parameters<typeof listCommand>[1]) => listCommand(ctx, opts)));

  program
    .command("show")
    .description("an experiment's runs and its per-variant summary")
    .argument("<id>")
    .action(act((ctx, id: string) => showCommand(ctx, id)));

  program
    .command("report")
    .description("the chapter-style report as Markdown (--json: as JSON)")
    .argument("<id>")
    .action(act((ctx, id: string) => reportCommand(ctx, id)));

  program
    .command("cancel")
    .description("cancel an experiment: queued runs leave the queue, running ones stop at the next batch")
    .argument("<id>")
    .action(act((ctx, id: string) => cancelCommand(ctx, id)));

  program
    .command("wait")
    .description(
      "wait until an experiment finishes: exit 0 if it succeeded, 1 if failed, partial or canceled",
    )
    .argument("<id>")
    .option("--interval <seconds>", "how often to ask (default 2)")
    .option("--timeout <seconds>", "give up after this long (exit 3)")
    .action(
      act((ctx, id: string, opts: Parameters<typeof waitCommand>[2]) => waitCommand(ctx, id, opts, signal)),
    );

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors; everything else commander refuses is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw err;
  }
  return code;
}
