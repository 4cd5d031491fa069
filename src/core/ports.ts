/** Injected so use cases and adapters stay free of process-level I/O. */
export interface Logger {
  /** Shown only with --debug. */
  debug(message: string): void;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const silentLogger: Logger = { debug: () => {} };
