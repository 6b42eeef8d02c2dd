import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url)).replace(/\/$/, "");
export const PROBE = fileURLToPath(new URL("./probe.cjs", import.meta.url));
