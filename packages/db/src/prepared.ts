import { createHash } from "node:crypto";
import { type Compilable, CompiledQuery, type Kysely } from "kysely";
import pg from "pg";
import type { DB } from "./generated/kysely/types.js";

/** SQL texts to run as named statements → their names. */
const statementNames = new Map<string, string>();

/**
 * A node-postgres client that runs the SQL texts of `preparedQuery` as named (prepared)
 * statements: Postgres parses and plans each once per connection, then only binds and executes
 * it. Kysely has no prepared statements of its own, and on the hot paths (creating and reading an
 * experiment) parsing and planning the same statement on every request was measurable Postgres
 * CPU. Every other query, Prisma's included (they come as config objects), passes through.
 */
export class NamedStatementClient extends pg.Client {
  // pg's query() has a dozen overloads; this only adds a name to one shape of call.
  override query(config: unknown, values?: unknown, callback?: unknown): never {
    const name = typeof config === "string" ? statementNames.get(config) : undefined;
    const call = super.query as unknown as (...args: unknown[]) => never;
    const result: unknown =
      name && Array.isArray(values)
        ? call.call(this, { name, text: config, values }, callback)
        : call.call(this, config, values, callback);
    discardOnReadTimeout(this, result);
    return result as never;
  }
}

/**
 * After a client-side query timeout (`query_timeout`) pg keeps the connection, with the timed-out
 * query still active on it: every later query on it waits behind that one. Across a partition
 * the answer never comes, so the pool would fill with such connections and every query would
 * time out until TCP gave up (minutes); the distributed test saw a worker's epoch writes fail
 * for a minute this way instead of seconds. So the connection is closed: the pool drops it and
 * opens a fresh one. (The caller still gets the timeout error.)
 */
function discardOnReadTimeout(client: pg.Client, result: unknown): void {
  if (!result || typeof (result as Promise<unknown>).then !== "function") return;
  (result as Promise<unknown>).then(undefined, (err: unknown) => {
    if ((err as Error | undefined)?.message === "Query read timeout") {
      const c = client as unknown as { _queryable: boolean; connection?: { stream?: { destroy(): void } } };
      // Runs before the caller hands the client back (this handler was attached first), so the
      // pool sees it unusable and removes it instead of lending it out again (pg-pool's _release).
      c._queryable = false;
      c.connection?.stream?.destroy();
    }
  });
}

/** Stands for an argument while a prepared query is compiled; replaced by the argument's value per call. */
class Placeholder {
  constructor(readonly key: string) {}
}

/**
 * A query built once with the typed builder, then run with new arguments: `build` receives
 * stand-ins for the arguments (use them wherever the values go), is compiled to SQL on the first
 * call, and every call after only fills in the values. Building and compiling a Kysely query
 * costs ~80 µs for the experiment read, more than half of that route's whole CPU time, so the two
 * hot paths pay it once per process. The SQL text is then the same on every call, so it also runs
 * as a named statement (see NamedStatementClient). `build` must not branch on its arguments.
 */
export function preparedQuery<A extends Record<string, unknown>, R>(
  build: (kysely: Kysely<DB>, args: A) => Compilable<R>,
): (kysely: Kysely<DB>, args: A) => Promise<R[]> {
  const statement = preparedStatement(build);
  return async (kysely, args) => {
    const { text, values } = statement(kysely, args);
    return (await kysely.executeQuery<R>(CompiledQuery.raw(text, values))).rows;
  };
}

/** A named statement as node-postgres takes it; `R` is the type of its rows. */
export interface NamedStatement<R> {
  name: string;
  text: string;
  values: unknown[];
  /** Never set: carries the row type to runStatement. */
  readonly rowType?: R;
}

/**
 * preparedQuery's compiled statement, for a caller that runs it on a node-postgres client itself
 * (runStatement) instead of through Kysely's executor. The SQL still comes from the builder.
 */
export function preparedStatement<A extends Record<string, unknown>, R>(
  build: (kysely: Kysely<DB>, args: A) => Compilable<R>,
): (kysely: Kysely<DB>, args: A) => NamedStatement<R> {
  let compiled: { sql: string; name: string; slots: Array<{ key: string } | { value: unknown }> } | undefined;
  return (kysely, args) => {
    if (!compiled) {
      const standIns = new Proxy({} as A, { get: (_, key) => new Placeholder(String(key)) });
      const query = build(kysely, standIns).compile();
      const name = `actlab_${createHash("sha1").update(query.sql).digest("hex").slice(0, 16)}`;
      compiled = {
        sql: query.sql,
        name,
        slots: query.parameters.map((p) => (p instanceof Placeholder ? { key: p.key } : { value: p })),
      };
      statementNames.set(query.sql, name);
    }
    return {
      name: compiled.name,
      text: compiled.sql,
      values: compiled.slots.map((s) => ("key" in s ? args[s.key] : s.value)),
    };
  };
}

/** Runs a prepared statement on a client taken from the pool (see withPoolClient). */
export async function runStatement<R>(client: pg.ClientBase, statement: NamedStatement<R>): Promise<R[]> {
  const { name, text, values } = statement;
  return (await client.query<R & pg.QueryResultRow>({ name, text, values })).rows;
}
