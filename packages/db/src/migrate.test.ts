import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { TEST_PG_SERVER } from "../../../tests/support/env.js";
import { testPrefix } from "../../../tests/support/index.js";
import { dropDatabase, ensureDatabase } from "./database.js";
import { applyMigrations, MIGRATIONS_DIR, migrationChecksum, readMigrations } from "./migrate.js";

const created: string[] = [];
async function freshDatabase(): Promise<string> {
  const url = `${TEST_PG_SERVER}/${testPrefix("mig").replaceAll("-", "_")}`;
  await ensureDatabase(url);
  created.push(url);
  return url;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

afterEach(async () => {
  while (created.length) await dropDatabase(created.pop()!);
});

describe("applyMigrations", () => {
  it("migrates a fresh database and records Prisma's checksums", async () => {
    const url = await freshDatabase();
    const files = readMigrations();
    const r = await applyMigrations({ url });
    expect(r.applied).toEqual(files.map((f) => f.name));

    const rows = await query<{
      migration_name: string;
      checksum: string;
      applied_steps_count: number;
      finished_at: Date | null;
    }>(
      url,
      `SELECT migration_name, checksum, applied_steps_count, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      const sql = readFileSync(join(MIGRATIONS_DIR, row.migration_name, "migration.sql"), "utf8");
      expect(row.checksum).toBe(migrationChecksum(sql));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(files[i]!.checksum).toBe(row.checksum);
    }
    const tables = await query<{ tablename: string }>(
      url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining([
        "tenants",
        "api_keys",
        "experiments",
        "runs",
        "epoch_metrics",
        "checkpoints",
        "model_artifacts",
        "experiment_events",
      ]),
    );
  });

  it("changes nothing on a second run", async () => {
    const url = await freshDatabase();
    await applyMigrations({ url });
    const before = await query(url, `SELECT id, checksum, finished_at FROM "_prisma_migrations" ORDER BY id`);
    const r = await applyMigrations({ url });
    expect(r.applied).toEqual([]);
    expect(r.alreadyApplied.length).toBe(before.length);
    expect(
      await query(url, `SELECT id, checksum, finished_at FROM "_prisma_migrations" ORDER BY id`),
    ).toEqual(before);
  });

  it("refuses an applied migration whose file was edited, and changes nothing", async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), "actlab-mig-"));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    await applyMigrations({ url, dir });
    const first = readMigrations(dir)[0]!;
    writeFileSync(join(dir, first.name, "migration.sql"), `${first.sql}\n-- edited afterwards\n`);
    // A new migration after the edited one must not be applied either.
    cpSync(join(dir, first.name), join(dir, "29991231000000_later"), { recursive: true });
    writeFileSync(join(dir, "29991231000000_later", "migration.sql"), 'CREATE TABLE "later" ("id" INTEGER);');

    await expect(applyMigrations({ url, dir })).rejects.toThrow(
      new RegExp(`migration ${first.name} was modified after it was applied`),
    );
    const later = await query(url, "SELECT 1 FROM pg_tables WHERE tablename = 'later'");
    expect(later).toEqual([]);
  });

  it("rolls back a failing migration and records nothing for it", async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), "actlab-mig-"));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    await applyMigrations({ url, dir });
    cpSync(join(dir, readMigrations(dir)[0]!.name), join(dir, "29991231000000_broken"), { recursive: true });
    writeFileSync(
      join(dir, "29991231000000_broken", "migration.sql"),
      'CREATE TABLE "half" ("id" INTEGER);\nSELECT nonsense FROM nowhere;',
    );
    await expect(applyMigrations({ url, dir })).rejects.toThrow(
      /29991231000000_broken failed and was rolled back/,
    );
    expect(await query(url, "SELECT 1 FROM pg_tables WHERE tablename = 'half'")).toEqual([]);
    expect(
      await query(url, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '29991231000000_broken'`),
    ).toEqual([]);
  });
});
