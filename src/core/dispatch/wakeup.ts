/**
 * The leader's sleep between reads of the queue: over at the next poll, or at once when poked
 * (a notice of new work, an attempt's end, a stop). A poke while the leader is not asleep (an
 * attempt that ends while the queue is being read) wakes the next sleep at once: lost, its freed
 * place waited for the next poll, a second, and a burst of short attempts ran two or three at a
 * time instead of `parallel`.
 */
export class Wakeup {
  private wake: (() => void) | undefined;
  private pending = false;

  /** The caller is about to look at whatever the pokes so far announced. */
  clear(): void {
    this.pending = false;
  }

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    if (wake) wake();
    else this.pending = true;
  }
}
