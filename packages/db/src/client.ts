import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export type Db = InstanceType<typeof PrismaClient>;

/**
 * The one way to get a Prisma client: Prisma 7's Rust-free client over node-postgres through
 * the pg driver adapter (no engine download needed).
 */
export function createDb({
  url,
  poolSize = 10,
  connectionTimeoutMillis,
  queryTimeoutMillis,
}: {
  url: string;
  poolSize?: number;
  /** Fail a query that cannot get a connection within this time instead of waiting forever (an outage). */
  connectionTimeoutMillis?: number;
  /** Give up on a query (client side) after this long, e.g. when the server stopped answering. */
  queryTimeoutMillis?: number;
}): Db {
  const adapter = new PrismaPg({
    connectionString: url,
    max: poolSize,
    ...(connectionTimeoutMillis ? { connectionTimeoutMillis } : {}),
    ...(queryTimeoutMillis ? { query_timeout: queryTimeoutMillis } : {}),
  });
  return new PrismaClient({ adapter });
}
