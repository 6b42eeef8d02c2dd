/**
 * Manage API keys:
 *   npm run apikey -- create --tenant NAME [--name LABEL]   prints the new key once
 *   npm run apikey -- revoke KEY|PREFIX|ID                  revokes it everywhere at once
 *   npm run apikey -- list [--tenant NAME]                  prefixes, never keys
 * Reads DATABASE_URL, REDIS_URL and QUEUE_PREFIX like the API (env.ts): `revoke` tells the APIs
 * started with the same QUEUE_PREFIX.
 */
import { parseArgs } from "node:util";
import { listApiKeys } from "@actlab/db";
import { createRedis, publishKeyRevoked, pubsubChannels, resolveWithin } from "@actlab/queue";
import { createApiKey, revokeApiKey } from "../services/api-keys.js";
import { cliEnv, fail, withCliDb } from "./common.js";

const USAGE = `usage:
  npm run apikey -- create --tenant NAME [--name LABEL]
  npm run apikey -- revoke KEY|PREFIX|KEY_ID
  npm run apikey -- list [--tenant NAME]`;

async function main() {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { tenant: { type: "string" }, name: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [command, target] = positionals;
  if (values.help || !command) fail(USAGE);

  const env = cliEnv();
  await withCliDb(env, async (db) => {
    switch (command) {
      case "create": {
        if (!values.tenant) fail(`--tenant is required\n${USAGE}`);
        const created = await createApiKey(db, { tenant: values.tenant, name: values.name ?? "cli" });
        process.stdout.write(
          `${created.key}\n` +
            `(tenant ${values.tenant}, key id ${created.id}; shown only now, store it safely)\n`,
        );
        break;
      }
      case "revoke": {
        if (!target) fail(`say which key to revoke\n${USAGE}`);
        const prefixes = await revokeApiKey(db, target);
        if (!prefixes.length) fail("no active key matches");
        // Running API processes cache keys briefly; tell them now (those with this QUEUE_PREFIX).
        const channels = pubsubChannels(env.QUEUE_PREFIX);
        // Offline queue on: the command waits for the connection instead of failing before it is up.
        const redis = createRedis(env.REDIS_URL, { role: "subscriber" });
        const published = await resolveWithin(
          Promise.all(prefixes.map((p) => publishKeyRevoked(redis, channels, p))).then(() => true),
          3_000,
        ).catch(() => false);
        if (!published)
          process.stderr.write("warning: Redis unreachable; running APIs drop the key within 30 s\n");
        redis.disconnect();
        process.stdout.write(`revoked ${prefixes.map((p) => `${p}…`).join(", ")}\n`);
        break;
      }
      case "list": {
        const rows = await listApiKeys(db, { tenant: values.tenant });
        for (const r of rows) {
          const state = r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : "active";
          const used = r.lastUsedAt ? `last used ${r.lastUsedAt.toISOString()}` : "never used";
          process.stdout.write(
            `${r.id}  ${r.prefix}…  tenant=${r.tenant}  name=${r.name}  ${state}, ${used}\n`,
          );
        }
        break;
      }
      default:
        fail(`unknown command ${command}\n${USAGE}`);
    }
  });
}

await main();
