/**
 * A token bucket per key (an invoke token): `burst` calls at once, then `perSecond`. Each key
 * has its own bucket, so one token's flood is refused without slowing another's calls. The
 * clock is injected (milliseconds), so tests step it by hand.
 */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  now: () => number;
  /** Buckets kept at most; full ones are dropped first (a full bucket is the default state). */
  maxKeys?: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly o: RateLimitOptions) {}

  take(key: string): Admission {
    const now = this.o.now();
    const b = this.refill(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) / this.o.perSecond) * 1000) };
  }

  private refill(key: string, now: number): { tokens: number; at: number } {
    let b = this.buckets.get(key);
    if (!b) {
      this.evict(now);
      b = { tokens: this.o.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.o.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * this.o.perSecond);
    b.at = now;
    return b;
  }

  private evict(now: number): void {
    if (this.buckets.size < (this.o.maxKeys ?? 10_000)) return;
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.o.perSecond >= this.o.burst) this.buckets.delete(key);
    }
  }
}
