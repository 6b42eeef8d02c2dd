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
}: {
  url: string;
  poolSize?: number;
  /** Fail a query that cannot get a connection within this time instead of waiting forever (an outage). */
  connectionTimeoutMillis?: number;
}): Db {
  const adapter = new PrismaPg({
    connectionString: url,
    max: poolSize,
    ...(connectionTimeoutMillis ? { connectionTimeoutMillis } : {}),
  });
  return new PrismaClient({ adapter });
}
