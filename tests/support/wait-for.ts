/**
 * Polls `fn` every `intervalMs` until it returns something truthy, and returns that; throws after
 * `timeoutMs` naming `what`. With `retryErrors` a throwing `fn` counts as "not yet" (for checks
 * that fail while a service restarts); otherwise its error ends the wait.
 */
export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 200, what = "condition", retryErrors = false } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await (retryErrors ? fn().catch(() => null) : fn());
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
