import { readFileSync } from "node:fs";
import { UsageError } from "./output.js";

/**
 * `--set training.epochs=30`: the value is read as JSON when it parses (numbers, booleans,
 * objects, quoted strings) and as a plain string otherwise, so `--set device=cpu` works unquoted.
 */
export function parseAssignment(text: string): { path: string[]; value: unknown } {
  const eq = text.indexOf("=");
  const path = eq > 0 ? text.slice(0, eq).split(".") : [];
  if (!path.length || path.some((p) => p === "" || p === "__proto__" || p === "constructor")) {
    throw new UsageError(`--set takes path=value (e.g. training.epochs=30), not "${text}"`);
  }
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a plain string
  }
  return { path, value };
}

/** Sets `value` at the dotted path, creating objects on the way (an existing non-object is an error). */
function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const [i, key] of path.slice(0, -1).entries()) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (typeof next !== "object" || next === null || Array.isArray(next)) {
      throw new UsageError(`--set ${path.join(".")}: ${path.slice(0, i + 1).join(".")} is not an object`);
    }
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

export interface SubmitInput {
  file?: string;
  preset?: string;
  set?: string[];
  name?: string;
  /** Reads the spec file; "-" is standard input. */
  readFile?: (path: string) => string;
}

/**
 * The body of POST /v1/experiments from a spec file and/or a preset and the `--set` overrides.
 * The API validates it (and names each bad field); this only assembles it.
 */
export function buildSubmitBody({ file, preset, set = [], name, readFile = readSpecFile }: SubmitInput) {
  if (!file && !preset) throw new UsageError("give a spec file (actlab submit spec.json) or --preset NAME");
  let body: Record<string, unknown> = {};
  if (file) {
    const text = readFile(file);
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new UsageError(`${file} must hold a JSON object (an experiment spec)`);
    }
  }
  if (preset) body.preset = preset;
  if (name) body.name = name;
  for (const s of set) {
    const { path, value } = parseAssignment(s);
    setPath(body, path, value);
  }
  return body;
}

function readSpecFile(path: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
