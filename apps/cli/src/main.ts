// The `actlab` command (bin/actlab.js starts this).
import { ZCliEnv } from "./env.js";
import { runCli } from "./program.js";

const env = ZCliEnv.safeParse(process.env);
if (!env.success) {
  for (const issue of env.error.issues) console.error(`error: ${String(issue.path[0])}: ${issue.message}`);
  process.exit(2);
}

const interrupted = new AbortController();
// Ctrl-C: stop what this process is doing (watching, waiting) and exit; a second one exits at once.
process.once("SIGINT", () => {
  interrupted.abort();
  process.once("SIGINT", () => process.exit(130));
});

process.exitCode = await runCli(process.argv.slice(2), env.data, interrupted.signal);
