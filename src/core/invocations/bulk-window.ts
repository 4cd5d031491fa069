/**
 * The bounded window of a streaming bulk run (issue 26). Inputs are taken one at a time while
 * fewer than `size` are taken and not yet settled (answered AND recorded); answers may arrive
 * in any order and are released strictly in input order, each release awaited, so a slow
 * reader of stdout or a slow database holds the run back instead of filling memory. Whatever
 * the number of inputs, at most `size` answers wait here, and at most `size` inputs have run
 * without their answer being recorded: what a killed run can lose, and a resume run again.
 */
export class BulkWindow<T> {
  readonly #ready = new Map<number, T>();
  readonly #waiting: Array<() => void> = [];
  #taken = 0;
  #released = 0;
  #settled = 0;
  /** Set while a drain runs (synchronously at its start, so a drain that ends at once clears it). */
  #busy = false;
  #draining: Promise<void> = Promise.resolve();
  #stopped = false;
  #failure: unknown;
  #peak = 0;

  constructor(
    readonly size: number,
    private readonly release: (value: T, index: number) => void | Promise<void>,
  ) {
    if (!(size >= 1)) throw new Error(`a bulk window holds at least one input, not ${size}`);
  }

  /** Waits for room for one more input; false once the window is stopped (or failed). */
  async room(): Promise<boolean> {
    while (!this.#stopped && this.#taken - this.#settled >= this.size) await new Promise<void>((wake) => this.#waiting.push(wake));
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#stopped) return false;
    this.#taken++;
    return true;
  }

  /** Gives back a slot taken for an input that did not exist (the source ended). */
  unused(): void {
    this.#taken--;
    this.#wake();
  }

  /** The answer of input `index`; resolves once every answer it made releasable is released. */
  async put(index: number, value: T): Promise<void> {
    this.#ready.set(index, value);
    this.#peak = Math.max(this.#peak, this.#ready.size);
    if (!this.#busy) this.#draining = this.#drain();
    await this.#draining;
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#ready.has(this.#released)) {
        const index = this.#released++;
        const value = this.#ready.get(index) as T;
        this.#ready.delete(index);
        await this.release(value, index);
      }
    } catch (err) {
      this.#failure ??= err;
      this.stop();
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /** `count` more released answers are recorded: their slots are free again. */
  settle(count: number): void {
    this.#settled += count;
    this.#wake();
  }

  /** Stop handing out room (Ctrl-C, a fatal error); waiting takers get false. */
  stop(): void {
    this.#stopped = true;
    this.#wake();
  }

  get released(): number {
    return this.#released;
  }

  /** The most answers that ever waited here at once (the unit test's bound). */
  get peakBuffered(): number {
    return this.#peak;
  }

  #wake(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

/** The window for `concurrency` inputs in flight: room for both in-order release and batched recording. */
export function windowSize(concurrency: number, batch: number): number {
  return Math.max(2 * batch, 4 * concurrency);
}
