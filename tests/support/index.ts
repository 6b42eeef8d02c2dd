export * from "./database.js";
export * from "./env.js";
export * from "./fixtures.js";
export * from "./logs.js";
export * from "./redis.js";
export * from "./wait-for.js";
export * from "./webhook-receiver.js";
