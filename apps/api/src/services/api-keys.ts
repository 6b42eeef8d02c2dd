import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Db, findApiKeyByPrefix, insertApiKey, revokeApiKeys, touchApiKey } from "@actlab/db";
import { isUuid } from "./uuid.js";

/** Characters of a key stored in clear to find its row; the rest is only ever hashed. */
export const KEY_PREFIX_LENGTH = 12;

export interface AuthContext {
  tenantId: string;
  keyId: string;
  keyPrefix: string;
}

/** A new random key: `ak_` + 43 base64url characters (256 bits). Shown once, stored hashed. */
export function generateApiKey(): string {
  return `ak_${randomBytes(32).toString("base64url")}`;
}

export function keyPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX_LENGTH);
}

/**
 * SHA-256 is enough here: keys are 256-bit random (or ≥ 24-character operator secrets), so a
 * slow password hash would add latency to every request without adding safety.
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export async function createApiKey(
  db: Db,
  { tenant, name = "default", key = generateApiKey() }: { tenant: string; name?: string; key?: string },
): Promise<{ key: string; id: string; tenantId: string; prefix: string }> {
  const row = await insertApiKey(db, { tenant, name, prefix: keyPrefix(key), hash: hashApiKey(key) });
  return { key, ...row };
}

/** Revokes by full key, by prefix, or by key id. Returns the revoked prefixes. */
export function revokeApiKey(db: Db, keyOrPrefixOrId: string): Promise<string[]> {
  return revokeApiKeys(
    db,
    isUuid(keyOrPrefixOrId) ? { id: keyOrPrefixOrId } : { prefix: keyPrefix(keyOrPrefixOrId) },
  );
}

/**
 * Seeds tenant `default` with the operator's bootstrap key. Idempotent; a bootstrap key that
 * was revoked stays revoked (returns "revoked" so the caller can warn).
 */
export async function ensureBootstrapKey(db: Db, key: string): Promise<"created" | "exists" | "revoked"> {
  const existing = await findApiKeyByPrefix(db, keyPrefix(key));
  if (existing) {
    if (!safeEqualHex(existing.hash, hashApiKey(key))) {
      throw new Error(
        "ACTLAB_BOOTSTRAP_API_KEY shares its first 12 characters with another stored key; choose another key",
      );
    }
    return existing.revokedAt ? "revoked" : "exists";
  }
  try {
    await createApiKey(db, { tenant: "default", name: "bootstrap", key });
    return "created";
  } catch (err) {
    // Two API processes starting together: the other one stored it first.
    if ((err as { code?: string }).code === "P2002") return "exists";
    throw err;
  }
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

interface CachedKey {
  id: string;
  tenantId: string;
  hash: Buffer;
  revoked: boolean;
  expiresAt: number;
}

/**
 * Verifies presented keys. Rows are cached for `ttlMs` so a request costs no extra query;
 * revocation reaches every process at once through `channels.apiKeyRevoked` (forget()), and the
 * TTL bounds how long a revoked key could live if that message were lost.
 */
export class ApiKeyVerifier {
  private readonly cache = new Map<string, CachedKey>();
  private readonly lastTouched = new Map<string, number>();
  /** Loads in flight, so a burst of requests with a new key makes one query, not one each. */
  private readonly loading = new Map<string, Promise<CachedKey | null>>();

  constructor(
    private readonly db: Db,
    private readonly opts: {
      ttlMs?: number;
      maxEntries?: number;
      now?: () => number;
    } = {},
  ) {}

  async verify(presented: string): Promise<AuthContext | null> {
    if (presented.length < 16 || presented.length > 256) return null;
    const prefix = keyPrefix(presented);
    const now = (this.opts.now ?? Date.now)();
    let entry: CachedKey | null | undefined = this.cache.get(prefix);
    if (!entry || entry.expiresAt < now) {
      let pending = this.loading.get(prefix);
      if (!pending) {
        pending = this.load(prefix, now).finally(() => this.loading.delete(prefix));
        this.loading.set(prefix, pending);
      }
      entry = await pending;
    }
    const hash = createHash("sha256").update(presented, "utf8").digest();
    // Compare even when no row exists, so a miss takes as long as a mismatch.
    const stored = entry?.hash ?? Buffer.alloc(32);
    const equal = timingSafeEqual(hash, stored);
    if (!entry || !equal || entry.revoked) return null;
    this.touch(entry.id, now);
    return { tenantId: entry.tenantId, keyId: entry.id, keyPrefix: prefix };
  }

  /**
   * Whether this process has seen `presented` valid (its row cached, fresh or past its TTL, not
   * revoked, same hash). Such a key needs no lookup, or only its periodic refresh, so the
   * failed-attempt limit need not stand in its way. No I/O.
   */
  knownValid(presented: string): boolean {
    if (presented.length < 16 || presented.length > 256) return false;
    const entry = this.cache.get(keyPrefix(presented));
    if (!entry || entry.revoked) return false;
    return timingSafeEqual(createHash("sha256").update(presented, "utf8").digest(), entry.hash);
  }

  forget(prefix: string): void {
    this.cache.delete(prefix);
  }

  private async load(prefix: string, now: number): Promise<CachedKey | null> {
    const row = await findApiKeyByPrefix(this.db, prefix);
    if (this.cache.size >= (this.opts.maxEntries ?? 10_000)) this.cache.clear();
    const entry = row
      ? {
          id: row.id,
          tenantId: row.tenantId,
          hash: Buffer.from(row.hash, "hex"),
          revoked: row.revokedAt !== null,
          expiresAt: now + (this.opts.ttlMs ?? 30_000),
        }
      : null;
    // Unknown prefixes are not cached: a key created a moment ago must work at once. A row that
    // is gone drops its old entry, so knownValid() stops vouching for it.
    if (entry) this.cache.set(prefix, entry);
    else this.cache.delete(prefix);
    return entry;
  }

  /** lastUsedAt at minute resolution: one UPDATE per key per minute, off the request path. */
  private touch(id: string, now: number): void {
    if ((this.lastTouched.get(id) ?? 0) > now - 60_000) return;
    this.lastTouched.set(id, now);
    touchApiKey(this.db, { id, at: new Date(now) }).catch(() => {});
  }
}
