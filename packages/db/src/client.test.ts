import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../tests/support/index.js";
import { createDb } from "./client.js";

const tdb = await createTestDatabase("client");
afterAll(() => tdb.drop());

describe("createDb", () => {
  it("idleInTransactionTimeoutMillis: Postgres rolls back a transaction its client left open, freeing its locks; the ended connection crashes nothing", async () => {
    const stuck = createDb({ url: tdb.url, poolSize: 1, idleInTransactionTimeoutMillis: 300 });
    const other = createDb({ url: tdb.url, poolSize: 1, queryTimeoutMillis: 5_000 });
    try {
      await sql`CREATE TABLE lock_probe (id int PRIMARY KEY, v int)`.execute(other.kysely);
      await sql`INSERT INTO lock_probe VALUES (1, 0)`.execute(other.kysely);
      // A client that takes a row lock and then goes silent, as one cut off by a partition does.
      const failed = stuck.kysely
        .transaction()
        .execute(async (trx) => {
          await sql`UPDATE lock_probe SET v = 1 WHERE id = 1`.execute(trx);
          await new Promise((r) => setTimeout(r, 1_000));
          await sql`SELECT 1`.execute(trx);
        })
        .then(
          () => null,
          (err: Error) => err,
        );
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      await sql`UPDATE lock_probe SET v = 2 WHERE id = 1`.execute(other.kysely);
      // Waited for the server to end the idle transaction (~300 ms), not for the client's 1 s.
      expect(performance.now() - t0).toBeLessThan(900);
      expect((await failed)?.message).toMatch(/idle-in-transaction|terminat|Connection/i);
      const { rows } = await sql<{ v: number }>`SELECT v FROM lock_probe WHERE id = 1`.execute(other.kysely);
      expect(rows[0]!.v).toBe(2);
    } finally {
      await stuck.close().catch(() => {});
      await other.close();
    }
  });

  it("queryTimeoutMillis: a connection whose query timed out is discarded, so the next query does not wait behind it", async () => {
    const db = createDb({ url: tdb.url, poolSize: 1, queryTimeoutMillis: 300 });
    try {
      // A query whose answer does not come in time, as across a partition.
      await expect(sql`SELECT pg_sleep(3)`.execute(db.kysely)).rejects.toThrow(/Query read timeout/);
      const t0 = performance.now();
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db.kysely);
      expect(rows[0]!.one).toBe(1);
      // On the kept connection it would have waited for pg_sleep (another 2.7 s) and timed out too.
      expect(performance.now() - t0).toBeLessThan(1_500);
    } finally {
      await db.close();
    }
  });
});
