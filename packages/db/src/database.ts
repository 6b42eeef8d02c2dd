import pg from "pg";

/** Splits a postgres URL into the server's maintenance URL and the database name. */
export function parseDatabaseUrl(url: string): { adminUrl: string; database: string } {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!database) throw new Error(`DATABASE_URL ${redactUrl(url)} names no database`);
  u.pathname = "/postgres";
  return { adminUrl: u.toString(), database };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Creates the database named by `url` if it does not exist yet. Returns true if it made it. */
export async function ensureDatabase(
  url: string,
  { template }: { template?: string } = {},
): Promise<boolean> {
  const { adminUrl, database } = parseDatabaseUrl(url);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount) return false;
    const from = template ? ` TEMPLATE ${quoteIdent(template)}` : "";
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(database)}${from}`);
    } catch (err) {
      // Two processes starting at once: the other one created it first.
      if ((err as { code?: string }).code === "42P04") return false;
      throw err;
    }
    return true;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const { adminUrl, database } = parseDatabaseUrl(url);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Answers whether Postgres at `url`'s server accepts connections (for friendly start-up errors). */
export async function canReachPostgres(url: string, timeoutMs = 3000): Promise<string | null> {
  const { adminUrl } = parseDatabaseUrl(url);
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}
