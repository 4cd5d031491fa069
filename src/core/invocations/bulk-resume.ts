import { ConflictError, NotFoundError, UsageError } from '../../base/errors.js';
import type { CurrentFunction } from '../../db/functions-repo.js';
import type { RequestRow } from '../../db/requests-repo.js';
import type { Actor } from '../users/accounts.js';
import { clockTime } from '../requests/deadlines.js';
import { closeExpiredRow } from './expired-requests.js';
import type { InvocationDeps } from './invocation.js';
import { lineHash, type BulkLine } from './bulk-io.js';

/**
 * `fn invoke NAME --bulk FILE --resume [RUN]` (issue 26). A run is a chain of request rows,
 * each resumed_from the one before; resuming adds a row. Before anything runs, every line the
 * chain answered is read again from the file and its sha256 compared with the one recorded: a
 * changed line refuses the resume (exit 2, naming the first), so recorded answers are never
 * printed for inputs they were not the answers of.
 */

/** The process that owns a run's row: a resume on the same host can tell that it is gone. */
export interface RunOwner {
  host: string;
  pid: number;
}

export interface ResumeOptions {
  /** The run to resume (any row of it); without it, the newest run of this function over the same file. */
  runId?: string;
  /** True when `owner` (recorded in the row's params) is a process that no longer exists. */
  ownerGone: (owner: RunOwner) => boolean;
}

export interface ResumePlan {
  /** The row the new one continues. */
  from: string;
  /** Every row of the run so far, newest first. */
  chain: string[];
  /** Lines already answered. */
  done: number;
}

const HASH_PAGE = 5000;

export function changedLine(source: string, lineNo: number, runId?: string): UsageError {
  return new UsageError(`${source}:${lineNo} changed since ${runId ? `run ${runId}` : 'the run'} answered it; a resumed run must read the same lines`, {
    code: 'input_changed',
    hint: 'resume with the file as it was, or start a new run without --resume',
  });
}

export async function prepareResume(
  deps: InvocationDeps,
  actor: Actor,
  fn: CurrentFunction,
  file: { path: string; label: string; lines: () => AsyncIterable<BulkLine> },
  o: ResumeOptions,
): Promise<ResumePlan> {
  const head = await headRow(deps, actor, fn, file, o.runId);
  await endIfOwnerGone(deps, head, o.ownerGone);
  const chain = await deps.store.bulkRuns.chain(head.id, actor.id);
  const done = await checkLines(deps, chain, file, o.runId ?? head.id);
  return { from: head.id, chain, done };
}

async function headRow(deps: InvocationDeps, actor: Actor, fn: CurrentFunction, file: { path: string; label: string }, runId: string | undefined): Promise<RequestRow> {
  const id = runId === undefined ? (await deps.store.bulkRuns.latestOver(actor.id, fn.id, file.path))?.id : await deps.store.bulkRuns.newest(runId, actor.id);
  // Another user's run is as unknown as a missing one.
  if (!id)
    throw new NotFoundError(runId ? `bulk run ${runId} not found` : `no bulk run of ${fn.name} over ${file.label} to resume`, {
      code: 'run_not_found',
      hint: 'faasctl request list --type fn shows your runs',
    });
  const row = await deps.store.requests.byId(id, actor.id);
  if (!row) throw new NotFoundError(`bulk run ${runId ?? id} not found`, { code: 'run_not_found' });
  if (row.functionId !== fn.id) throw new UsageError(`run ${runId ?? id} invoked ${row.functionName ?? 'another function'}, not ${fn.name}`, { code: 'run_mismatch' });
  return row;
}

/** A row still open: closed now when its lease ran out or its CLI is gone; otherwise someone is running it. */
async function endIfOwnerGone(deps: InvocationDeps, row: RequestRow, ownerGone: ResumeOptions['ownerGone']): Promise<void> {
  if (row.status !== 'pending' && row.status !== 'running') return;
  const owner = (row.params as { owner?: RunOwner }).owner;
  const expired = row.deadlineAt !== null && row.deadlineAt.getTime() < deps.clock.now().getTime();
  if (expired || (owner && ownerGone(owner))) {
    await closeExpiredRow({ ...deps, engine: async () => deps }, row);
    const now = await deps.store.requests.byIdAnyUser(row.id);
    if (now && now.status !== 'pending' && now.status !== 'running') return;
  }
  throw new ConflictError(`bulk run ${row.id} is still running${row.deadlineAt ? ` (its CLI holds its lease until ${clockTime(row.deadlineAt)})` : ''}`, {
    code: 'run_active',
    hint: `wait for it, or stop it with faasctl request cancel ${row.id}, then resume`,
  });
}

/** Every recorded line against the file, in index order; the number of lines answered. */
async function checkLines(deps: InvocationDeps, chain: string[], file: { label: string; lines: () => AsyncIterable<BulkLine> }, runId: string): Promise<number> {
  const lines = file.lines()[Symbol.asyncIterator]();
  let done = 0;
  let from = 0;
  let lastLineNo = 0;
  try {
    for (;;) {
      const page = await deps.store.bulkRuns.recordedHashes(chain, from, HASH_PAGE);
      for (const recorded of page) {
        let line: BulkLine | undefined;
        do line = (await lines.next()).value as BulkLine | undefined;
        while (line && line.index < recorded.index);
        if (!line || line.index !== recorded.index) throw changedLine(file.label, line?.lineNo ?? lastLineNo + 1, runId);
        lastLineNo = line.lineNo;
        if (recorded.inputSha256 === null)
          throw new UsageError(`run ${runId} was recorded before runs could be resumed (no line hashes)`, { code: 'run_not_resumable', hint: 'start a new run without --resume' });
        if (recorded.inputSha256 !== lineHash(line.text)) throw changedLine(file.label, line.lineNo, runId);
        done++;
      }
      if (page.length < HASH_PAGE) return done;
      from = page[page.length - 1]!.index + 1;
    }
  } finally {
    await lines.return?.();
  }
}
