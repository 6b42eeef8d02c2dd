import pg from "pg";
import { getExperiment } from "../src/services/experiments.ts";

const sql = new pg.Pool({
  connectionString: "postgresql://postgres@127.0.0.1:5432/actlab_api_manual",
  max: 10,
});
const { rows } = await sql.query(
  `SELECT id, "tenantId" FROM experiments WHERE id='13e93af4-b51e-4191-9d39-0e72b4a1a90c'`,
);
const { id, tenantId } = rows[0];
let n = 0,
  stop = false;
setTimeout(() => (stop = true), 3000);
const c0 = process.cpuUsage();
const s = performance.now();
const mode = process.argv[2];
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (!stop) {
      if (mode === "raw") await sql.query(`SELECT e.* FROM experiments e WHERE e.id = $1`, [id]);
      else await getExperiment({ sql, tenantId, id });
      n++;
    }
  }),
);
const c = process.cpuUsage(c0);
console.log(
  mode,
  (n / ((performance.now() - s) / 1000)).toFixed(0),
  "ops/s",
  ((c.user + c.system) / 1000 / n).toFixed(3),
  "ms cpu/op",
);
process.exit(0);
