// Writes a Brotli (.br) and a gzip (.gz) copy next to every compressible file of the build, so
// the API serves them as they are (@fastify/static `preCompressed`) instead of sending 395 kB of
// JavaScript uncompressed or compressing it again on every request. Node's zlib does the work
// (what compression plugins for Vite wrap); at most quality, since it runs once per build.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = fileURLToPath(new URL("../dist", import.meta.url));
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|map|txt|ttf)$/;
/** Below this a compressed copy saves too little to be worth a second file. */
const MIN_BYTES = 1024;

let before = 0;
let after = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      walk(path);
      continue;
    }
    if (!COMPRESSIBLE.test(name)) continue;
    const raw = readFileSync(path);
    if (raw.length < MIN_BYTES) continue;
    const br = brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
    writeFileSync(`${path}.br`, br);
    writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }));
    if (!name.endsWith(".map")) {
      before += raw.length;
      after += br.length;
    }
  }
}
walk(dist);
console.log(
  `precompressed dist/: ${(before / 1024).toFixed(0)} kB of code and styles → ${(after / 1024).toFixed(0)} kB brotli`,
);
