import type { HeldConnection } from '../../db/database.js';
import type { QueuedRow } from '../../db/queue-repo.js';
import { EXIT } from '../../base/errors.js';
import { trySlots, userCap } from '../functions/concurrency.js';
import { type DispatchPolicy, effectivePolicy } from '../functions/dispatch-policy.js';
import type { CurrentFunction } from '../../db/functions-repo.js';
import { WarmRoutes } from './warm-routes.js';
import { PoolViews } from '../pool/pool-view.js';
import { Wakeup } from './wakeup.js';
import { TtlMemo } from '../../base/ttl-memo.js';
import { failedOutcome } from '../invocations/invocation.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import { deadlineBudgetMs } from '../requests/deadlines.js';
import { leftRunning, runAttempt, watchCold, type AttemptResult } from './attempt.js';
import { HEARTBEAT_MS, LEADER_KEY, QUEUE_CHANNEL } from './queue-state.js';
import { endUnrunnable, settle } from './settle.js';

/**
 * `faasctl dispatcher`: runs queued requests. One leader per installation, chosen by a
 * PostgreSQL advisory lock held on a connection of its own: a second dispatcher waits as a
 * standby and takes over the moment the leader's connection ends (a crash, a killed task, a
 * lost node), first adopting what the old leader left running.
 */

/** A claim's first lease, until the row's own budget (its function's timeout) is known. */
const CLAIM_LEASE_MS = 120_000;
/** A row that found its concurrency limit full goes back to the queue for about this long. */
const FULL_RETRY_MS = 500;
/** On a stop, how long running attempts may take to finish before they are left to the next leader. */
const STOP_GRACE_MS = 5_000;
const STANDBY_POLL_MS = 1_000;
/** How long a function's version and policy are reused: a changed policy applies within this. */
const FUNCTION_TTL_MS = 2_000;
const SUMMARY_MS = 10_000;

export interface DispatcherOptions {
  /** Who this is, in the heartbeat and the logs: host and process. */
  holder: string;
  /** Attempts running at once. */
  parallel: number;
  /** How often the queue is read when no notice arrives. */
  pollMs: number;
  signal: AbortSignal;
  /** One line per event worth a log line (leading, standby, attempts' ends). */
  onEvent: (line: string) => void;
  /**
   * Work only the leader does, about every `everyMs` while it leads, one run at a time: the
   * schedules' slots (schedules/fire.ts, passed in by the command: schedules sit above
   * dispatch). Answers an event line, or nothing.
   */
  tick?: { everyMs: number; run: () => Promise<string | undefined> };
}

export async function runDispatcher(deps: InvokeDeps, o: DispatcherOptions): Promise<void> {
  const installation = await deps.store.meta.installationId();
  const lead = await deps.store.hold();
  const lost = new AbortController();
  lead.onLost((err) => lost.abort(err));
  try {
    if (!(await becomeLeader(deps, lead, installation, o))) return;
    await new Leader(deps, lead, o, lost.signal).run();
  } finally {
    lead.release(true);
  }
  if (lost.signal.aborted && !o.signal.aborted) throw new Error(`lost the database connection that held the leadership: ${(lost.signal.reason as Error).message}`);
}

async function becomeLeader(deps: InvokeDeps, lead: HeldConnection, installation: string, o: DispatcherOptions): Promise<boolean> {
  let announced = false;
  while (!o.signal.aborted) {
    const [row] = await lead.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), 0) AS ok', [`faasctl:dispatcher:${installation}`]);
    if (row?.ok) return true;
    if (!announced) o.onEvent('standby: another dispatcher leads; waiting to take over');
    announced = true;
    await deps.sleep(STANDBY_POLL_MS);
  }
  return false;
}

class Leader {
  private readonly inflight = new Set<Promise<void>>();
  private readonly stopRunning = new AbortController();
  private readonly stopTicking = new AbortController();
  private readonly wakeup = new Wakeup();
  private cap: number | undefined;
  private readonly warm: WarmRoutes;
  private readonly tally = new Map<string, number>();
  /** A function's version and policy, read once per FUNCTION_TTL_MS rather than per attempt. */
  private readonly functions: TtlMemo<{ fn: CurrentFunction; policy: DispatchPolicy } | undefined>;

  private readonly deps: InvokeDeps;

  constructor(
    deps: InvokeDeps,
    private readonly lead: HeldConnection,
    private readonly o: DispatcherOptions,
    private readonly lost: AbortSignal,
  ) {
    // The attempts' claims share their reads of the pools (core/pool/pool-view.ts).
    this.deps = { ...deps, poolViews: new PoolViews(deps.monotonic) };
    this.functions = new TtlMemo(FUNCTION_TTL_MS, deps.monotonic);
    this.warm = new WarmRoutes(this.deps, o.parallel);
  }

  async run(): Promise<void> {
    const since = this.deps.clock.now().toISOString();
    const beat = () => this.deps.store.meta.set(LEADER_KEY, JSON.stringify({ holder: this.o.holder, since })).catch((e: Error) => this.deps.log.debug(`heartbeat: ${e.message}`));
    await beat();
    const timer = setInterval(beat, HEARTBEAT_MS);
    const summary = setInterval(() => this.summarise(), SUMMARY_MS);
    this.lead.onNotification(() => this.poke());
    await this.lead.query(`LISTEN ${QUEUE_CHANNEL}`);
    const stopped = () => this.o.signal.aborted || this.lost.aborted;
    const onStop = () => this.poke();
    this.o.signal.addEventListener('abort', onStop);
    this.lost.addEventListener('abort', onStop);
    this.o.onEvent(`leading (${this.o.holder})`);
    let ticking: Promise<void> | undefined;
    try {
      this.cap = await userCap(this.deps.store);
      await this.adopt();
      // Not an attempt: it takes none of the `parallel` places.
      if (this.o.tick) ticking = this.ticks(this.o.tick);
      while (!stopped()) {
        const free = this.o.parallel - this.inflight.size;
        // This read sees whatever a poke until now announced.
        this.wakeup.clear();
        const rows = free > 0 ? await this.deps.store.queue.claim(free, CLAIM_LEASE_MS) : [];
        for (const row of rows) this.track(this.dispatch(row));
        if (rows.length > 0 && rows.length === free) continue;
        await this.idle();
      }
    } finally {
      clearInterval(timer);
      clearInterval(summary);
      this.o.signal.removeEventListener('abort', onStop);
      this.lost.removeEventListener('abort', onStop);
      this.stopTicking.abort();
      await ticking;
      await this.drain();
      this.warm.close();
      this.summarise();
    }
  }

  /** The leader's tick until it stops leading; a failed run is an event line, and the next one comes anyway. */
  private async ticks(tick: NonNullable<DispatcherOptions['tick']>): Promise<void> {
    const stop = this.stopTicking.signal;
    while (!stop.aborted && !this.lost.aborted) {
      const line = await tick.run().catch((err: Error) => `tick failed: ${err.message}`);
      if (line) this.o.onEvent(line);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, tick.everyMs);
        stop.addEventListener('abort', done, { once: true });
        function done() {
          clearTimeout(timer);
          stop.removeEventListener('abort', done);
          resolve();
        }
      });
    }
  }

  /** Waits for a notice, an attempt's end, a stop or the next poll. */
  private idle(): Promise<void> {
    return this.wakeup.sleep(this.o.pollMs);
  }

  private poke(): void {
    this.wakeup.poke();
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: Error) => this.o.onEvent(`error: ${err.message}`))
      .finally(() => {
        this.inflight.delete(tracked);
        this.poke();
      });
    this.inflight.add(tracked);
  }

  /** Lets running attempts end for a moment, then leaves the rest (their services run on) to the next leader. */
  private async drain(): Promise<void> {
    if (!this.inflight.size) return;
    const grace = new Promise<void>((r) => setTimeout(r, STOP_GRACE_MS).unref());
    await Promise.race([Promise.all(this.inflight), grace]);
    this.stopRunning.abort();
    await Promise.all(this.inflight);
  }

  private functionOf(row: QueuedRow): Promise<{ fn: CurrentFunction; policy: DispatchPolicy } | undefined> {
    if (!row.functionId || !row.functionVersion) return Promise.resolve(undefined);
    const { functionId, functionVersion } = row;
    return this.functions.get(`${functionId}:${functionVersion}`, async () => {
      const fn = await this.deps.store.functions.atVersion(functionId, functionVersion);
      return fn && { fn, policy: effectivePolicy(await this.deps.store.functions.dispatchPolicy(fn.id)) };
    }).value;
  }

  private async dispatch(row: QueuedRow): Promise<void> {
    const known = await this.functionOf(row);
    if (!known) return endUnrunnable(this.deps, row, `its function ${row.functionName ?? ''} v${row.functionVersion ?? '?'} was deleted before it ran`);
    const { fn, policy } = known;
    const ageMs = this.deps.clock.now().getTime() - row.createdAt.getTime();
    if (ageMs > policy.maxEventAgeMs) return endUnrunnable(this.deps, row, `it waited in the queue past its maximum event age (${Math.round(policy.maxEventAgeMs / 1000)} s)`);
    const limits = { functionId: fn.id, userId: row.userId ?? '', ...(policy.maxConcurrency ? { maxConcurrency: policy.maxConcurrency } : {}), ...(this.cap ? { userCap: this.cap } : {}) };
    const budgetMs = deadlineBudgetMs({ kind: 'cold', timeoutMs: fn.current.timeoutMs });
    const slots = await trySlots(this.deps.store, limits);
    if (!slots) {
      await this.deps.store.queue.release(row.id, FULL_RETRY_MS + Math.floor(Math.random() * FULL_RETRY_MS), Math.max(0, policy.maxEventAgeMs - ageMs) + budgetMs);
      return;
    }
    try {
      // The claim's lease covers most functions; a longer timeout gets its own.
      if (budgetMs > CLAIM_LEASE_MS) await this.deps.store.requests.renewLease(row.id, budgetMs);
      const a = await runAttempt(this.deps, fn, row, this.stopRunning.signal, await this.warm.routerFor(fn));
      if (a.abandoned) return;
      this.report(row, a, await settle(this.deps, row, a, policy, fn.current.timeoutMs));
    } finally {
      slots.release();
    }
  }

  /**
   * The previous leader's claimed rows: a cold attempt whose service still runs is followed to
   * its end; any other was cut off mid-way and counts as a failed attempt (the function may
   * have run: the attempt count says so).
   */
  private async adopt(): Promise<void> {
    for (const row of await this.deps.store.queue.claimedRows()) {
      const fn = row.functionId && row.functionVersion ? await this.deps.store.functions.atVersion(row.functionId, row.functionVersion) : undefined;
      if (!fn) {
        await endUnrunnable(this.deps, row, `its function ${row.functionName ?? ''} was deleted while it ran`);
        continue;
      }
      const policy = effectivePolicy(await this.deps.store.functions.dispatchPolicy(fn.id));
      const startedAt = row.startedAt ?? row.createdAt;
      const left = row.mode === 'cold' ? await leftRunning(this.deps, row.id) : undefined;
      this.o.onEvent(`adopting request ${row.id} (attempt ${row.attempt}${left ? ', its service still runs' : ', cut off'})`);
      if (left) {
        this.track(
          (async () => {
            const a = await watchCold(this.deps, fn, row, { ...left, startedAt, signal: this.stopRunning.signal });
            if (!a.abandoned) this.report(row, a, await settle(this.deps, row, a, policy, fn.current.timeoutMs));
          })(),
        );
        continue;
      }
      const base = { output: '', outputTruncated: false, node: row.node, finishedAt: this.deps.clock.now(), durationMs: null };
      const cut: AttemptResult = {
        outcome: failedOutcome(base, 'the dispatcher running this attempt stopped before it ended', EXIT.platform),
        attempt: row.attempt,
        startedAt,
        mode: row.mode ?? 'cold',
      };
      this.report(row, cut, await settle(this.deps, row, cut, policy, fn.current.timeoutMs));
    }
  }

  /**
   * Retries and dead letters one line each; the rest as a tally every SUMMARY_MS (a line per
   * request would cost the engine's log driver more than the request at a few hundred a second).
   */
  private report(row: QueuedRow, a: AttemptResult, end: 'retry' | 'ended' | 'dead'): void {
    const status = a.outcome.completion.status;
    this.tally.set(status, (this.tally.get(status) ?? 0) + 1);
    if (end === 'ended') return;
    const what = `${row.functionName ?? '?'} request ${row.id} attempt ${a.attempt} (${a.mode}): ${status}`;
    this.o.onEvent(end === 'retry' ? `${what}; will retry` : `${what}; dead letter`);
  }

  private summarise(): void {
    if (!this.tally.size) return;
    const parts = [...this.tally.entries()].map(([status, n]) => `${n} ${status}`);
    this.tally.clear();
    this.o.onEvent(`attempts ended in the last ${SUMMARY_MS / 1000} s: ${parts.join(', ')}`);
  }
}
