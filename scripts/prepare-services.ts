// Run before the tests (and by `npm start`): Postgres and Redis up (starting local ones if
// they are down), then for `--test` nothing else (tests make their own databases), otherwise
// the app database created and migrated.
import { ensureDatabase, migrate, redactUrl } from "../packages/db/src/index.js";
import { parseEnvOrExit, ZStartEnv } from "./lib/env.js";
import { ensureServices } from "./lib/services.js";

const env = parseEnvOrExit(ZStartEnv);
const testOnly = process.argv.includes("--test");

try {
  await ensureServices({ databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL, start: true });
  if (!testOnly) {
    if (await ensureDatabase(env.DATABASE_URL))
      console.log(`created database ${redactUrl(env.DATABASE_URL)}`);
    const r = await migrate({ url: env.DATABASE_URL });
    console.log(`database ready (${r.applied.length} migrations applied now)`);
  }
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
