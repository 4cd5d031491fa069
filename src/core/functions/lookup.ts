import type { CurrentFunction } from '../../db/functions-repo.js';
import type { Store } from '../../db/store.js';
import type { SwarmClient } from '../../swarm/client.js';
import { NotFoundError } from '../../base/errors.js';
import { validateFunctionName } from '../../base/names.js';
import type { Clock, Logger } from '../../base/ports.js';
import type { LocalFiles } from './dependencies.js';
import type { Actor } from '../users/accounts.js';

/** What the function use cases need; finding one of a user's functions by name. */
export interface FunctionDeps {
  store: Store;
  swarm: SwarmClient;
  clock: Clock;
  log: Logger;
  newId: () => string;
  sha256: (data: string | Buffer) => string;
  runtimeImage: () => Promise<string>;
  progress: (text: string) => void;
  /** Reads the local packages a requirements file names. */
  files?: LocalFiles;
  /** HOST:PORT: dependency images are pushed there and versions name them by digest. */
  registry?: string;
  /**
   * Runs `fn` with Ctrl-C / SIGTERM as its abort signal (elsewhere they end the CLI as
   * always): a running code check is killed and removed, and nothing is stored.
   */
  interruptible?: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

export async function requireFunction(store: Store, actor: Actor, name: string): Promise<CurrentFunction> {
  const fn = await store.functions.current(actor.id, validateFunctionName(name));
  if (!fn) throw functionNotFound(name);
  return fn;
}

export function functionNotFound(name: string): NotFoundError {
  return new NotFoundError(`function "${name}" not found`, { hint: 'faasctl fn list shows yours' });
}
