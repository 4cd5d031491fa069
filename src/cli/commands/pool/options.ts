export interface PoolResizeOptions {
  /** The class's memory (default 256m). */
  memory?: string;
  /** The class's CPUs (default 1). */
  cpus?: string;
}

export interface PoolDrainOptions {
  /** One class (`m256-c1000`); default: every pool. */
  class?: string;
}
