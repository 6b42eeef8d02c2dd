import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";

/**
 * IDX, the format of the MNIST family: magic (0, 0, type, dims), big-endian dimension sizes,
 * then the data. Only unsigned bytes (type 0x08) occur in these datasets.
 */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array, what = "IDX data"): IdxArray {
  const buf = isGzip(bytes) ? new Uint8Array(gunzipSync(bytes)) : bytes;
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new Error(`${what}: not an IDX file (bad magic)`);
  if (buf[2] !== 0x08)
    throw new Error(`${what}: IDX element type 0x${(buf[2] ?? 0).toString(16)} is not unsigned byte`);
  const ndims = buf[3] as number;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * ndims;
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length < start + count) {
    throw new Error(`${what}: truncated (expected ${count} elements, file holds ${buf.length - start})`);
  }
  return { dims, data: buf.subarray(start, start + count) };
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export async function readIdxFile(path: string): Promise<IdxArray> {
  return parseIdx(new Uint8Array(await readFile(path)), path);
}

/** Writes an IDX file of unsigned bytes (used by tests and tools). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  const view = new DataView(header.buffer);
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}
