#!/usr/bin/env node
// `actlab` (npx actlab … from the repository): the built CLI when `npm run build` has made it and
// no source file changed since, otherwise the TypeScript sources through tsx, with the "source"
// condition the workspace packages export their sources under (so an old build never runs).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const src = fileURLToPath(new URL("../src/", import.meta.url));

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestSource(`${path}/`) : statSync(path).mtimeMs);
  }
  return newest;
}

const useBuilt = existsSync(built) && (!existsSync(src) || statSync(built).mtimeMs >= newestSource(src));
if (useBuilt) {
  await import(new URL("../dist/main.js", import.meta.url).href);
} else {
  const args = ["--conditions=source", "--import", import.meta.resolve("tsx"), `${src}main.ts`];
  const child = spawn(process.execPath, [...args, ...process.argv.slice(2)], { stdio: "inherit" });
  // Ctrl-C reaches the child too (same process group): let it decide, and exit as it does.
  process.on("SIGINT", () => {});
  child.on("exit", (code, sig) => process.exit(code ?? (sig === "SIGINT" ? 130 : 1)));
}
