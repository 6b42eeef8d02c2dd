export * from "./database.js";
export * from "./env.js";
export * from "./redis.js";
