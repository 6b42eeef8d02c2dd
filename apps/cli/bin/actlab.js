#!/usr/bin/env node
// `actlab` (npx actlab … from the repository): the built CLI when `npm run build` has made it,
// otherwise the TypeScript sources through tsx, with the "source" condition the workspace
// packages export their sources under.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/main.js", import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", import.meta.resolve("tsx"), main, ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  // Ctrl-C reaches the child too (same process group): let it decide, and exit as it does.
  process.on("SIGINT", () => {});
  child.on("exit", (code, sig) => process.exit(code ?? (sig === "SIGINT" ? 130 : 1)));
}
