import { createInterface } from "node:readline";
import { createActlabClient, expectOk } from "@actlab/client";
import { ZExperimentList } from "@actlab/contracts";
import { writeConfig } from "../config.js";
import type { Context } from "../context.js";
import { EXIT, printJson, UsageError } from "../output.js";

/** Reads the key: typed at a prompt that does not echo it, or the first line of piped input. */
async function readKey(): Promise<string> {
  const tty = Boolean(process.stdin.isTTY);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: tty });
  if (tty) {
    process.stderr.write("API key: ");
    // readline echoes what is typed through _writeToOutput; write nothing while the key is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  try {
    const line = await new Promise<string>((resolve) => {
      rl.once("line", resolve);
      rl.once("close", () => resolve(""));
    });
    if (tty) process.stderr.write("\n");
    return line.trim();
  } finally {
    rl.close();
  }
}

/**
 * Checks the key against the API (the cheapest authenticated call) and stores it with the API's
 * address in the config file, readable by the user only.
 */
export async function loginCommand(ctx: Context) {
  const key = ctx.env.ACTLAB_API_KEY ?? (await readKey());
  if (!key)
    throw new UsageError("no API key given (type it at the prompt, pipe it in, or set ACTLAB_API_KEY)");
  const { apiUrl } = ctx.connection;
  const client = createActlabClient({ baseUrl: apiUrl, apiKey: key });
  await expectOk(
    client.GET("/v1/experiments", { params: { query: { limit: 1 } } }),
    ZExperimentList,
    "experiment list",
  );
  const file = writeConfig(ctx.env, { apiUrl, apiKey: key });
  if (ctx.output.json) printJson(ctx.output, { apiUrl, config: file });
  else ctx.output.out(`logged in to ${apiUrl}; key stored in ${file} (mode 0600)`);
  return EXIT.ok;
}
