import type { CurrentFunction } from '../../db/functions-repo.js';
import type { RecordedItem } from '../../db/bulk-runs-repo.js';
import type { RequestItem } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import { EXIT, PlatformError, type ExitCode } from '../../base/errors.js';
import type { Outcome } from './invocation.js';
import type { ReplicaRouter } from './replica-router.js';
import { callWarm } from './warm-invoke.js';
import { BulkWindow } from './bulk-window.js';
import { batchWriter, lineHash, type BulkLine } from './bulk-io.js';
import { changedLine } from './bulk-resume.js';
import type { Completion } from '../../db/requests-repo.js';
import type { Frame } from './invocation-output.js';

/**
 * The streaming middle of a bulk run (issue 26): lines pulled one at a time from the source,
 * run on the replicas `concurrency` at once inside a bounded window, released in input order
 * to `emit` (which may hold the run back: stdout, the database). A resumed run merges in the
 * answers its earlier rows recorded, read page by page in index order, instead of running them.
 */
export interface BulkAnswer {
  index: number;
  /** The function version that answered. */
  version: number | null;
  status: Completion['status'];
  exitCode: ExitCode;
  result: unknown;
  error: Frame['error'] | { type: string; message: string; traceback?: null };
  durationMs: number | null;
  /** This CLI's round trip for the input, retries included. */
  latencyMs: number;
  attempts: number;
  /** The node that answered (its hostname). */
  node: string | null;
}

export interface Released {
  answer: BulkAnswer;
  /** Null: already recorded by an earlier row of the run. */
  item: RequestItem | null;
}

/** Answers of earlier rows read ahead per query. */
const RECORDED_PAGE = 1000;

export interface StreamPlan {
  lines: AsyncIterable<BulkLine>;
  concurrency: number;
  window: number;
  signal: AbortSignal;
  /** The earlier rows of a resumed run (their answers are printed, not run again). */
  chain?: string[];
  /** The file, for the line a refusal names. */
  source: string;
}

/** Pairs each line with its recorded answer, if any: both come in index order. */
async function* withRecorded(store: Store, plan: StreamPlan): AsyncGenerator<{ line: BulkLine; recorded?: RecordedItem }> {
  let page: RecordedItem[] = [];
  let at = 0;
  let from = 0;
  let exhausted = !plan.chain?.length;
  for await (const line of plan.lines) {
    for (;;) {
      while (at < page.length && page[at]!.index < line.index) at++;
      if (at < page.length || exhausted) break;
      page = await store.bulkRuns.recorded(plan.chain!, from, RECORDED_PAGE);
      at = 0;
      if (page.length < RECORDED_PAGE) exhausted = true;
      if (page.length) from = page[page.length - 1]!.index + 1;
    }
    const recorded = at < page.length && page[at]!.index === line.index ? page[at] : undefined;
    // Checked before the run too (bulk-resume.ts); a file changed while the run reads it stops here.
    if (recorded?.line && recorded.line.inputSha256 !== lineHash(line.text)) throw changedLine(plan.source, line.lineNo);
    yield recorded ? { line, recorded } : { line };
  }
}

export async function streamBulk(
  deps: { store: Store; monotonic: () => number; clock: { now(): Date } },
  fn: CurrentFunction,
  router: ReplicaRouter,
  requestId: string,
  plan: StreamPlan,
  emit: (r: Released) => void | Promise<void>,
): Promise<void> {
  // Released answers go out (stdout), then to the database; their slots free up once recorded.
  const writer = batchWriter(deps, requestId, (n) => window.settle(n));
  const window = new BulkWindow<Released>(plan.window, async (r) => {
    await emit(r);
    writer.add(r.item);
  });
  const source = withRecorded(deps.store, plan);
  let fatal: Error | undefined;
  const onAbort = () => window.stop();
  plan.signal.addEventListener('abort', onAbort, { once: true });
  const clock = { monotonic: deps.monotonic, now: () => deps.clock.now() };
  const step = async (): Promise<boolean> => {
    if (!(await window.room())) return false;
    const next = await source.next();
    if (next.done) {
      window.unused();
      return false;
    }
    const { line, recorded } = next.value;
    if (recorded) {
      await window.put(line.index, { answer: recordedAnswer(recorded), item: null });
      return true;
    }
    const { outcome, attempts, latencyMs } = await callWarm(clock, router, fn.current, line.text, plan.signal, `${requestId}:${line.index}`);
    if (plan.signal.aborted) return false;
    // With no replica at all, every other input would wait out its own deadline.
    if (outcome.exitCode === EXIT.platform && router.size === 0) throw new PlatformError(`no replica answers any more: ${outcome.message}`, { code: 'no_replica' });
    await window.put(line.index, toReleased(line, outcome, attempts, latencyMs));
    return true;
  };
  const loop = async () => {
    try {
      while (!fatal && !plan.signal.aborted && (await step()));
    } catch (err) {
      // A bad line read from stdin, a replica-less service, a failed write: the first one stops every loop.
      fatal ??= err as Error;
      window.stop();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, plan.concurrency) }, loop));
  } finally {
    plan.signal.removeEventListener('abort', onAbort);
    // The source may hold a file open: close it however the run ended.
    await source.return(undefined).catch(() => {});
  }
  // What was answered is recorded however the run stopped (a fatal error, Ctrl-C).
  try {
    await writer.flush();
  } catch (err) {
    fatal ??= err as Error;
  }
  if (fatal) throw fatal;
}

/** A recorded answer as the first run printed it. */
function recordedAnswer(r: RecordedItem): BulkAnswer {
  const result = r.line?.resultText != null ? (JSON.parse(r.line.resultText) as unknown) : r.result;
  const error = (r.line?.errorDetail ?? (r.error ? { type: 'PlatformError', message: r.error, traceback: null } : null)) as BulkAnswer['error'];
  const exitCode = (r.line?.exitCode ?? (r.status === 'success' ? EXIT.ok : EXIT.functionFailed)) as ExitCode;
  return {
    index: r.index,
    version: r.version,
    status: r.status,
    exitCode,
    result,
    error,
    durationMs: r.line?.runMs ?? null,
    latencyMs: r.durationMs ?? 0,
    attempts: r.attempts,
    node: r.line?.node ?? null,
  };
}

function toReleased(line: BulkLine, o: Outcome, attempts: number, latencyMs: number): Released {
  const c = o.completion;
  const error = o.frame?.error ?? (o.message ? { type: 'PlatformError', message: o.message, traceback: null } : null);
  const result = c.result ?? null;
  return {
    answer: { index: line.index, version: c.functionVersion ?? null, status: c.status, exitCode: o.exitCode, result, error, durationMs: c.durationMs, latencyMs, attempts, node: c.node },
    // The row keeps the caller's view, like a request row: the round trip.
    item: {
      index: line.index,
      version: c.functionVersion ?? null,
      status: c.status,
      result,
      error: c.error,
      output: c.output,
      attempts,
      durationMs: latencyMs,
      cpuMs: c.cpuMs,
      maxRssKb: c.maxRssKb,
      line: { inputSha256: lineHash(line.text), node: c.node, runMs: c.durationMs, errorDetail: error, resultText: jsonbWouldReorder(result) ? JSON.stringify(result) : null, exitCode: o.exitCode },
    },
  };
}

/**
 * True when PostgreSQL's jsonb would give the value back with object keys in another order
 * (it sorts them by length, then bytes): only then is the text kept beside it.
 */
export function jsonbWouldReorder(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(jsonbWouldReorder);
  if (!value || typeof value !== 'object') return false;
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) if (jsonbKeyOrder(keys[i - 1]!, keys[i]!) > 0) return true;
  return Object.values(value).some(jsonbWouldReorder);
}

function jsonbKeyOrder(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length - y.length || Buffer.compare(x, y);
}
