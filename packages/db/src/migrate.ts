import { spawnSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** prisma/migrations of this repository. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../prisma/migrations", import.meta.url));

/** The advisory lock id Prisma's own migrate uses, so the two never run at once. */
const PRISMA_ADVISORY_LOCK = 72707369;

// Same table Prisma's schema engine creates, so `prisma migrate` and this runner share history.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  override name = "MigrationError";
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/** Prisma's checksum: the SHA-256 of migration.sql, as zero-padded lowercase hex. */
export function migrationChecksum(sql: string): string {
  return createHash("sha256").update(sql, "utf8").digest("hex");
}

/** Like Prisma, accept a checksum taken with the other line-ending convention (git may convert them). */
function matchesChecksum(sql: string, checksum: string): boolean {
  const variants = [sql, sql.replaceAll("\r\n", "\n"), sql.replaceAll(/\r?\n/g, "\r\n")];
  return variants.some((v) => migrationChecksum(v) === checksum);
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: migrationChecksum(sql) };
    });
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
  via: "prisma" | "actlab";
}

/**
 * Applies pending migrations in order, each in its own transaction, recording them in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does. Refuses (without changing
 * anything) when an applied migration's file was edited or an earlier attempt failed.
 */
export async function applyMigrations({
  url,
  dir = MIGRATIONS_DIR,
  log = () => {},
}: {
  url: string;
  dir?: string;
  log?: (line: string) => void;
}): Promise<MigrateResult> {
  const files = readMigrations(dir);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
    }>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
    );
    const applied = new Map<string, string>();
    for (const row of rows) {
      if (row.rolled_back_at) continue;
      if (!row.finished_at) {
        throw new MigrationError(
          `migration ${row.migration_name} started but did not finish (a failed migration). ` +
            `Fix the database by hand, then mark it with \`prisma migrate resolve\` or delete its row from _prisma_migrations.`,
        );
      }
      applied.set(row.migration_name, row.checksum);
    }
    for (const file of files) {
      const checksum = applied.get(file.name);
      if (checksum !== undefined && !matchesChecksum(file.sql, checksum)) {
        throw new MigrationError(
          `migration ${file.name} was modified after it was applied to this database ` +
            `(recorded checksum ${checksum}, file now ${file.checksum}). ` +
            `Never edit an applied migration: restore the file and add a new migration instead.`,
        );
      }
    }
    const known = new Set(files.map((f) => f.name));
    const missing = [...applied.keys()].filter((n) => !known.has(n));
    if (missing.length) log(`warning: applied migrations not found locally: ${missing.join(", ")}`);

    const result: MigrateResult = { applied: [], alreadyApplied: [], via: "actlab" };
    for (const file of files) {
      if (applied.has(file.name)) {
        result.alreadyApplied.push(file.name);
        continue;
      }
      const id = randomUUID();
      await client.query("BEGIN");
      try {
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), 0)`,
          [id, file.checksum, file.name],
        );
        await client.query(file.sql);
        await client.query(
          `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
          [id],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new MigrationError(
          `migration ${file.name} failed and was rolled back: ${(err as Error).message}`,
        );
      }
      log(`applied ${file.name}`);
      result.applied.push(file.name);
    }
    return result;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK]).catch(() => {});
    await client.end();
  }
}

/**
 * Where Prisma's schema engine binary is present (a machine that could download it, or
 * PRISMA_SCHEMA_ENGINE_BINARY naming a real engine), `prisma migrate deploy` is used;
 * otherwise the same files go through applyMigrations. Both leave identical databases.
 */
export function findSchemaEngine(env: NodeJS.ProcessEnv = process.env): string | null {
  const configured = env.PRISMA_SCHEMA_ENGINE_BINARY;
  if (configured && existsSync(configured) && isExecutableEngine(configured)) return configured;
  try {
    const require = createRequire(import.meta.url);
    const enginesDir = dirname(require.resolve("@prisma/engines/package.json"));
    const engine = readdirSync(enginesDir).find((f) => f.startsWith("schema-engine-"));
    return engine ? join(enginesDir, engine) : null;
  } catch {
    return null;
  }
}

function isExecutableEngine(path: string): boolean {
  const r = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 && /schema-engine/i.test(r.stdout + r.stderr);
}

export async function migrate({
  url,
  log = () => {},
  preferPrisma = true,
}: {
  url: string;
  log?: (line: string) => void;
  preferPrisma?: boolean;
}): Promise<MigrateResult> {
  const engine = preferPrisma ? findSchemaEngine() : null;
  if (!engine) return applyMigrations({ url, log });
  const root = fileURLToPath(new URL("../../..", import.meta.url));
  const r = spawnSync("npx", ["--no-install", "prisma", "migrate", "deploy"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, PRISMA_SCHEMA_ENGINE_BINARY: engine },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new MigrationError(`prisma migrate deploy failed:\n${r.stdout}${r.stderr}`);
  log(r.stdout.trim());
  return { applied: [], alreadyApplied: [], via: "prisma" };
}
