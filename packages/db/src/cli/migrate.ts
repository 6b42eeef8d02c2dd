// `npm run db:migrate`: creates the database if needed and applies prisma/migrations.
import { z } from "zod";
import { ensureDatabase, redactUrl } from "../database.js";
import { MigrationError, migrate } from "../migrate.js";

const env = z
  .object({ DATABASE_URL: z.string().url().default("postgresql://postgres@127.0.0.1:5432/actlab") })
  .parse(process.env);

try {
  if (await ensureDatabase(env.DATABASE_URL)) console.log(`created database ${redactUrl(env.DATABASE_URL)}`);
  const r = await migrate({ url: env.DATABASE_URL, log: (l) => console.log(l) });
  console.log(
    r.via === "prisma"
      ? "migrated with prisma migrate deploy"
      : `migrations: ${r.applied.length} applied, ${r.alreadyApplied.length} already applied`,
  );
} catch (err) {
  console.error(err instanceof MigrationError ? `db:migrate refused: ${err.message}` : err);
  process.exit(1);
}
