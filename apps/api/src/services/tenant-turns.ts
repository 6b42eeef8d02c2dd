import { E_TIMEOUT, Mutex, withTimeout } from "async-mutex";
import { AppError } from "../errors.js";

/**
 * One experiment creation per tenant at a time *inside this process*, waited for without a
 * database connection.
 *
 * Creation also takes the tenant's Postgres advisory lock (that is what makes the active-runs
 * limit exact across API processes), but a request waits for that lock while holding a pooled
 * connection. Without this in-process turn, one tenant's burst filled the whole pool with
 * connections waiting on the same lock, and every other tenant's requests timed out on the pool
 * (503). Now each process holds at most one connection per tenant for creation; the rest of the
 * burst waits here, in memory, bounded by the per-key rate limit and by `waitMs`.
 */
export class TenantTurns {
  private readonly turns = new Map<string, { mutex: Mutex; users: number }>();

  constructor(private readonly waitMs = 5_000) {}

  async run<T>(tenantId: string, fn: () => Promise<T>): Promise<T> {
    let turn = this.turns.get(tenantId);
    if (!turn) {
      turn = { mutex: new Mutex(), users: 0 };
      this.turns.set(tenantId, turn);
    }
    turn.users++;
    try {
      return await withTimeout(turn.mutex, this.waitMs, E_TIMEOUT).runExclusive(fn);
    } catch (err) {
      if (err === E_TIMEOUT) {
        throw new AppError(
          "unavailable",
          `this tenant's earlier experiment submissions are still being stored; retry in a few seconds`,
          { headers: { "retry-after": "5" } },
        );
      }
      throw err;
    } finally {
      // The entry goes once nobody holds or waits for it, so the map holds only busy tenants.
      if (--turn.users === 0) this.turns.delete(tenantId);
    }
  }

  /** Tenants with a creation in progress or waiting (for tests and diagnostics). */
  get busyTenants(): number {
    return this.turns.size;
  }
}
