/**
 * Coalesces a run's live epoch updates: at ~0.1 s an epoch, one SSE event and one job progress
 * update per epoch would flood the dashboard and Redis. At most one goes out per `intervalMs`;
 * an update that arrives sooner waits, and a newer one replaces it (the latest wins). Postgres
 * still gets every epoch (storeEpoch); only the live view is thinned. `flush` sends what waits.
 */
export class LiveEpochs<T> {
  private lastSent = Number.NEGATIVE_INFINITY;
  private pending: T | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly intervalMs: number,
    private readonly send: (update: T) => Promise<void>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(update: T): void {
    this.pending = update;
    if (this.timer) return;
    const wait = this.lastSent + this.intervalMs - this.now();
    if (wait <= 0) this.sendPending();
    else this.timer = setTimeout(() => this.sendPending(), wait);
  }

  /** Sends the waiting update now and resolves when everything sent so far is out. */
  flush(): Promise<void> {
    this.sendPending();
    return this.chain;
  }

  private sendPending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const update = this.pending;
    if (update === null) return;
    this.pending = null;
    this.lastSent = this.now();
    this.chain = this.chain.then(() => this.send(update)).catch(() => {});
  }
}
