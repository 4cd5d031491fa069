/**
 * Promises kept by key for a while: one load shared by every caller within its lifetime (a
 * long-running process's reads that many callers need at about the same time). A load that
 * fails is dropped at once, so the next caller loads again.
 */
export class TtlMemo<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The kept promise of `key`, or a new `load()`; `fresh` loads anyway. `cached` says which it was. */
  get(key: string, load: () => Promise<T>, fresh = false): { value: Promise<T>; cached: boolean } {
    const known = this.entries.get(key);
    const now = this.now();
    if (known && !fresh && now - known.at < this.ttlMs) return { value: known.value, cached: true };
    const value = load();
    this.entries.set(key, { at: now, value });
    value.catch(() => {
      // Only this load's entry: a newer one made meanwhile stays.
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return { value, cached: false };
  }
}
