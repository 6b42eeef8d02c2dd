import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export type Db = InstanceType<typeof PrismaClient>;

/**
 * The one way to get a Prisma client: Prisma 7's Rust-free client over node-postgres through
 * the pg driver adapter (no engine download needed).
 */
export function createDb({ url, poolSize = 10 }: { url: string; poolSize?: number }): Db {
  const adapter = new PrismaPg({ connectionString: url, max: poolSize });
  return new PrismaClient({ adapter });
}
