/** Where the tests find Postgres and Redis (the same defaults as the apps). */
export const TEST_PG_SERVER = process.env.TEST_DATABASE_SERVER ?? "postgresql://postgres@127.0.0.1:5432";
export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** A migrated database every test database is copied from (CREATE DATABASE … TEMPLATE is fast). */
export const TEMPLATE_DB = "actlab_test_template";
