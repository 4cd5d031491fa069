import { PlatformError, TimeoutError } from '../../base/errors.js';
import { ReplicaUnreachable, type Logger, type ReplicaEndpoint, type ReplicaTransport } from '../../base/ports.js';

/**
 * Sends invocations to the replicas of one service and gets each one answered exactly once:
 * the least busy replica takes a request; a replica that refuses (503: busy or draining, the
 * request was not run) or vanishes (connection refused or reset: killed, rolled, rescheduled)
 * is set aside and the request goes to another, with the replica list re-read from Swarm.
 * A replica killed mid-request may have run it: it is sent again elsewhere, so a function
 * may run twice in that case but is answered once (at-least-once execution).
 */
export interface RouterDeps {
  transport: ReplicaTransport;
  /** The service's running replicas, as Swarm lists them now. */
  endpoints: () => Promise<ReplicaEndpoint[]>;
  /** Nodes that were not Ready at the last `endpoints()`: requests in flight there are sent again. */
  lostNodes?: () => ReadonlySet<string>;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
  /** Monotonic milliseconds. */
  now: () => number;
}

export interface Routed {
  body: string;
  endpoint: ReplicaEndpoint;
  attempts: number;
}

/** Swarm keeps listing a killed task as running for a moment: don't go back to it at once. */
const SET_ASIDE_MS = 3_000;
/** The caller's request id for one call (a bulk item's: `<run>:<index>`); the runtime hands it to the function. */
const REQUEST_HEADER = 'x-faasctl-request';
/**
 * Swarm lists a task as running once its container starts, before the server in it listens
 * (~0.5 s of interpreter start-up): a replica that never answered is retried soon.
 */
const STARTING_MS = 200;
const REFRESH_EVERY_MS = 250;
const BACKOFF_MAX_MS = 500;
/** While requests are in flight, how often Swarm is asked whether their nodes are still there. */
const WATCH_MS = 1_000;

/** Why a request in flight was abandoned: its replica's node is gone (power cut, cable cut). */
class NodeLost extends Error {
  constructor(readonly nodeId: string) {
    super(`node ${nodeId} is down`);
  }
}

export class ReplicaRouter {
  private list: ReplicaEndpoint[] = [];
  private readonly busy = new Map<string, number>();
  private readonly setAside = new Map<string, number>();
  /** Replicas that have answered at least once (so a refusal means they went away). */
  private readonly proven = new Set<string>();
  private refreshing?: Promise<void>;
  private refreshedAt = -Infinity;
  private turn = 0;
  /**
   * One abort per node, shared by the requests in flight there (no signal made per request:
   * a long bulk run would pile listeners onto the caller's signal): aborted when Swarm
   * reports the node lost, or with the caller's signal.
   */
  private readonly nodeAborts = new Map<string, AbortController>();
  private readonly inFlight = new Map<string, number>();
  private readonly callerSignals = new WeakSet<AbortSignal>();
  private watch?: NodeJS.Timeout;

  constructor(
    private readonly deps: RouterDeps,
    private readonly headers: Record<string, string>,
  ) {}

  /** Replicas known to be up, as of the last refresh. */
  get size(): number {
    return this.list.length;
  }

  async refresh(force = false): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (!force && this.deps.now() - this.refreshedAt < REFRESH_EVERY_MS) return;
    this.refreshing = (async () => {
      try {
        const now = this.deps.now();
        for (const [key, until] of this.setAside) if (until <= now) this.setAside.delete(key);
        this.list = (await this.deps.endpoints()).filter((e) => !this.setAside.has(keyOf(e)));
        this.refreshedAt = this.deps.now();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Posts one input; resolves with the replica's 200 answer. */
  async call(body: string, deadline: number, signal?: AbortSignal, requestId?: string): Promise<Routed> {
    const headers = requestId ? { ...this.headers, [REQUEST_HEADER]: requestId } : this.headers;
    // tries paces the back-off; attempts counts deliveries that may have run the function.
    for (let tries = 1, attempts = 1; ; tries++) {
      signal?.throwIfAborted();
      const endpoint = await this.next(deadline, signal);
      signal?.throwIfAborted();
      const key = keyOf(endpoint);
      this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
      const nodeSignal = this.track(endpoint, signal);
      let status: number;
      let text: string;
      try {
        ({ status, body: text } = await this.deps.transport.post(endpoint, '/invoke', headers, body, { timeoutMs: deadline - this.deps.now(), signal: nodeSignal }));
        this.proven.add(key);
      } catch (err) {
        if (signal?.aborted) throw err;
        const lost = nodeSignal.reason instanceof NodeLost ? nodeSignal.reason : undefined;
        if (!(err instanceof ReplicaUnreachable) && !lost) {
          if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') throw this.timeout();
          throw err;
        }
        const starting = !lost && !this.proven.has(key);
        // A connection refused by a replica that never answered is a server still starting
        // (Swarm says running ~0.5 s before it listens): the input never got in, so sending it
        // elsewhere is not a second attempt (issue 17: attempts reflect real retries).
        const undelivered = starting && err instanceof ReplicaUnreachable && err.reason === 'ECONNREFUSED';
        if (!undelivered) attempts++;
        this.deps.log.debug(`${lost ? `replica ${key} lost with its ${lost.message}` : starting ? `replica ${key} not listening yet` : (err as Error).message}; trying another replica`);
        this.putAside(endpoint);
        await this.backoff(tries, deadline, signal);
        continue;
      } finally {
        this.untrack(endpoint);
        this.busy.set(key, (this.busy.get(key) ?? 1) - 1);
      }
      if (status === 200) return { body: text, endpoint, attempts };
      if (status === 503) {
        this.deps.log.debug(`replica ${key} busy or draining (${text.trim()}); trying another`);
        if (text.includes('draining')) this.putAside(endpoint);
        attempts++;
        await this.backoff(tries, deadline, signal);
        continue;
      }
      if (status === 401) {
        throw new PlatformError("a warm replica refused the function's token", {
          code: 'token_refused',
          hint: 'scale the function to 0 and back up to re-issue it: faasctl fn scale NAME 0 && faasctl fn scale NAME N',
        });
      }
      throw new PlatformError(`a warm replica answered HTTP ${status}: ${text.trim().slice(0, 200)}`, { code: 'replica_error' });
    }
  }

  /** Stops watching for lost nodes; requests still in flight are left to finish. */
  close(): void {
    clearInterval(this.watch);
    this.watch = undefined;
  }

  /** Counts a request in flight to this endpoint; answers the signal that abandons it. */
  private track(endpoint: ReplicaEndpoint, caller?: AbortSignal): AbortSignal {
    if (caller && !this.callerSignals.has(caller)) {
      this.callerSignals.add(caller);
      caller.addEventListener('abort', () => this.abortAll(caller.reason), { once: true });
    }
    const node = endpoint.nodeId ?? '';
    this.inFlight.set(node, (this.inFlight.get(node) ?? 0) + 1);
    let abort = this.nodeAborts.get(node);
    if (!abort) {
      abort = new AbortController();
      this.nodeAborts.set(node, abort);
    }
    this.startWatch();
    return abort.signal;
  }

  private abortAll(reason: unknown): void {
    for (const abort of this.nodeAborts.values()) abort.abort(reason);
    this.nodeAborts.clear();
  }

  private startWatch(): void {
    if (this.watch || !this.deps.lostNodes) return;
    // A request to a node that lost power or its cable gets no reset, only silence: only
    // Swarm's verdict (node Down, ~3 heartbeats) tells it apart from a slow function.
    this.watch = setInterval(() => void this.abandonLost(), WATCH_MS);
    this.watch.unref();
  }

  private untrack(endpoint: ReplicaEndpoint): void {
    const node = endpoint.nodeId ?? '';
    const left = (this.inFlight.get(node) ?? 1) - 1;
    if (left > 0) this.inFlight.set(node, left);
    else this.inFlight.delete(node);
    if (this.inFlight.size === 0) this.close();
  }

  private async abandonLost(): Promise<void> {
    try {
      await this.refresh(true);
    } catch (err) {
      this.deps.log.debug(`replica list not refreshed: ${(err as Error).message}`);
      return;
    }
    const lost = this.deps.lostNodes?.() ?? new Set<string>();
    for (const node of this.inFlight.keys()) {
      if (!node || !lost.has(node)) continue;
      // Requests made from now on get a fresh abort: the node may come back.
      this.nodeAborts.get(node)?.abort(new NodeLost(node));
      this.nodeAborts.delete(node);
    }
  }

  private async next(deadline: number, signal?: AbortSignal): Promise<ReplicaEndpoint> {
    for (;;) {
      if (!this.list.length) await this.refresh();
      const picked = this.leastBusy();
      if (picked) return picked;
      if (this.deps.now() >= deadline)
        throw new PlatformError('no replica of the function is running', { code: 'no_replica', hint: 'see faasctl fn show NAME; docker service ps shows why tasks fail' });
      await this.deps.sleep(100);
      signal?.throwIfAborted();
    }
  }

  private leastBusy(): ReplicaEndpoint | undefined {
    const n = this.list.length;
    let best: ReplicaEndpoint | undefined;
    let bestLoad = Infinity;
    // Start the scan at a rotating offset so ties spread over the replicas.
    for (let i = 0; i < n; i++) {
      const e = this.list[(this.turn + i) % n]!;
      const load = this.busy.get(keyOf(e)) ?? 0;
      if (load < bestLoad) [best, bestLoad] = [e, load];
    }
    this.turn = (this.turn + 1) % Math.max(1, n);
    return best;
  }

  private putAside(endpoint: ReplicaEndpoint): void {
    const key = keyOf(endpoint);
    this.setAside.set(key, this.deps.now() + (this.proven.has(key) ? SET_ASIDE_MS : STARTING_MS));
    this.list = this.list.filter((e) => keyOf(e) !== key);
    this.deps.transport.forget(endpoint);
  }

  private async backoff(attempts: number, deadline: number, signal?: AbortSignal): Promise<void> {
    if (this.deps.now() >= deadline) throw this.timeout();
    await this.deps.sleep(Math.min(BACKOFF_MAX_MS, 10 * 2 ** Math.min(attempts, 6)));
    signal?.throwIfAborted();
    await this.refresh();
  }

  private timeout(): TimeoutError {
    return new TimeoutError('no replica answered in time', { code: 'replica_timeout' });
  }
}

function keyOf(e: ReplicaEndpoint): string {
  return `${e.host}:${e.port}`;
}
