import type { Store } from '../../db/store.js';
import { BULK_LEASE_MS, BULK_RENEW_MS } from './deadlines.js';
import type { Logger } from '../../base/ports.js';

/**
 * The owner of a long-running row keeps it alive by renewing its deadline; a process that
 * dies stops renewing, and the row becomes closable a lease later (see expired-requests.ts).
 * A renewal that finds the row already closed (another process judged it abandoned, e.g.
 * while PostgreSQL was unreachable for longer than the lease) tells the owner to stop: the
 * row's ending has been written and must not be contradicted.
 */
export interface Lease {
  /** Aborted when the row was closed by someone else. */
  readonly lost: AbortSignal;
  stop(): void;
}

export function holdLease(deps: { store: Store; log: Logger }, requestId: string, o: { leaseMs?: number; renewMs?: number } = {}): Lease {
  const lost = new AbortController();
  let renewing = false;
  const renew = async () => {
    if (renewing) return; // a slow database: one renewal at a time
    renewing = true;
    try {
      if (!(await deps.store.requests.renewLease(requestId, o.leaseMs ?? BULK_LEASE_MS))) {
        clearInterval(timer);
        lost.abort(new Error('its request row was closed by another process (its lease expired)'));
      }
    } catch (err) {
      // PostgreSQL away: keep trying; the lease runs out only if this goes on for its length.
      deps.log.debug(`lease of ${requestId} not renewed: ${(err as Error).message}`);
    } finally {
      renewing = false;
    }
  };
  const timer = setInterval(() => void renew(), o.renewMs ?? BULK_RENEW_MS);
  // The lease must never keep a finished CLI alive.
  timer.unref();
  return { lost: lost.signal, stop: () => clearInterval(timer) };
}
