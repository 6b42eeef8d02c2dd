export { type TCliEnv, ZCliEnv } from "./env.js";
export { runCli } from "./program.js";
