import { PrismaPg } from "@prisma/adapter-pg";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { DB } from "./generated/kysely/types.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { NamedStatementClient } from "./prepared.js";

/**
 * The database: Prisma's client, and `kysely`, the typed query builder (its table types generated
 * from the same schema.prisma), both over one node-postgres pool. Every query of the apps is a
 * function of this package that takes it; the apps themselves only pass it around.
 */
export type Db = PrismaClient & {
  readonly kysely: Kysely<DB>;
  /** Disconnects Prisma and ends the pool (Prisma's $disconnect alone ends it only if Prisma ever connected). */
  close(): Promise<void>;
};

const TIMESTAMP_OID = 1114;

/**
 * Prisma stores DateTime in `timestamp` (without time zone) columns as UTC. node-postgres would
 * read those as local time, so the pool reads them as UTC. (Prisma's adapter passes its own type
 * parsers with every query, so this changes nothing for Prisma.)
 */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === TIMESTAMP_OID && format !== "binary") {
      return (value: string) => new Date(`${value.replace(" ", "T")}Z`);
    }
    return pg.types.getTypeParser(oid, format as "text");
  },
};

/**
 * The one way to get a database handle: Prisma 7's Rust-free client through the pg driver adapter
 * (no engine download needed) and Kysely, sharing one pool of `poolSize` connections.
 */
export function createDb({
  url,
  poolSize = 10,
  connectionTimeoutMillis,
  queryTimeoutMillis,
  idleInTransactionTimeoutMillis,
  onIdleError,
}: {
  url: string;
  poolSize?: number;
  /** Fail a query that cannot get a connection within this time instead of waiting forever (an outage). */
  connectionTimeoutMillis?: number;
  /** Give up on a query (client side) after this long, e.g. when the server stopped answering. */
  queryTimeoutMillis?: number;
  /**
   * Server side: Postgres ends a session of this client that sits in an open transaction this
   * long (`idle_in_transaction_session_timeout`). A client cut off by a partition mid-transaction
   * would otherwise hold its row locks until TCP gives up (hours), and every other process that
   * touches those rows waits on them; this way its transaction is rolled back and the locks freed.
   */
  idleInTransactionTimeoutMillis?: number;
  /** An idle connection failed (Postgres restarted); the pool replaces it. Logged by the caller. */
  onIdleError?: (err: Error) => void;
}): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    Client: NamedStatementClient,
    types,
    ...(connectionTimeoutMillis ? { connectionTimeoutMillis } : {}),
    ...(queryTimeoutMillis ? { query_timeout: queryTimeoutMillis } : {}),
    ...(idleInTransactionTimeoutMillis
      ? { options: `-c idle_in_transaction_session_timeout=${Math.round(idleInTransactionTimeoutMillis)}` }
      : {}),
  });
  // Without a listener an idle connection's error would crash the process.
  pool.on("error", (err) => onIdleError?.(err));
  // The pool listens only while a connection is idle in it. One checked out in a transaction can
  // be ended by the server too (idle_in_transaction_session_timeout, a restart): its error
  // would then be unhandled and crash the process. The query in hand still fails on its own.
  pool.on("connect", (client) => client.on("error", (err) => onIdleError?.(err)));
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const kysely = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const prisma = new PrismaClient({ adapter });
  async function close() {
    await prisma.$disconnect();
    if (!pool.ended) await pool.end();
  }
  // Attached to the client rather than wrapping it, so a Db is still a Prisma client wherever
  // one is expected (tests read rows through it).
  const db = Object.assign(prisma, { kysely, close });
  pools.set(db, pool);
  return db;
}

/** Each Db's pool, for withPoolClient (kept out of the Db type, so apps never see pg). */
const pools = new WeakMap<object, pg.Pool>();

/**
 * Runs `fn` on one connection of the db's pool and releases it after. For the creation
 * transaction only (lifecycle/create.ts): it is the API's hottest write, and running its three
 * statements through Kysely's executor (a connection provider, a compiled node tree and a query
 * id per statement) cost measurable CPU per request over node-postgres itself.
 */
export async function withPoolClient<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const pool = pools.get(db);
  if (!pool) throw new Error("withPoolClient needs a Db made by createDb");
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}
