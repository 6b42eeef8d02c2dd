// The served OpenAPI document, three ways (see scripts/lib/openapi.ts):
//   npm run openapi:lint      Redocly's recommended rules (redocly.yaml) on the served document
//   npm run client:generate   packages/client/openapi.json + src/generated/openapi.ts from it
//   npm run client:check      exits 1 when the committed client differs from the served document
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientFiles, lintOpenApi, readCommittedClient, writeClient } from "./lib/openapi.js";

const command = process.argv[2];
if (command === "lint") {
  const { output, ok } = await lintOpenApi();
  process.stdout.write(output);
  process.exit(ok ? 0 : 1);
} else if (command === "generate") {
  const written = await writeClient();
  for (const f of written) console.log(`wrote ${f}`);
} else if (command === "check") {
  const [served, committed] = await Promise.all([clientFiles(), readCommittedClient()]);
  const stale = Object.keys(served).filter((f) => served[f] !== committed[f]);
  if (stale.length) {
    const dir = mkdtempSync(join(tmpdir(), "actlab-client-"));
    for (const f of stale) writeFileSync(join(dir, f.replaceAll("/", "_")), served[f]!);
    console.error(`stale: ${stale.join(", ")} (served versions in ${dir}); run npm run client:generate`);
    process.exit(1);
  }
  console.log("the committed client matches the served document");
} else {
  console.error("usage: tsx scripts/openapi.ts lint | generate | check");
  process.exit(2);
}
