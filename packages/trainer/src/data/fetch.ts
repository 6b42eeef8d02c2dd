import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface RemoteFile {
  url: string;
  /** Hex sha256 of the file exactly as served (gzipped or not). */
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Returns the bytes of a remote file through a local cache keyed by its sha256: a cached copy
 * is used when its hash matches; otherwise the file is downloaded, verified and stored
 * (written to a temporary name and renamed, so a crash never leaves a half file).
 */
export async function fetchCached(file: RemoteFile, cacheDir: string): Promise<Uint8Array> {
  const want = file.sha256.toLowerCase();
  const path = join(cacheDir, want);
  try {
    const cached = new Uint8Array(await readFile(path));
    if (sha256Hex(cached) === want) return cached;
  } catch {
    // not cached yet
  }
  const res = await fetch(file.url);
  if (!res.ok) throw new Error(`GET ${file.url} answered ${res.status} ${res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const got = sha256Hex(bytes);
  if (got !== want) throw new Error(`GET ${file.url}: sha256 ${got} does not match the expected ${want}`);
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return bytes;
}
