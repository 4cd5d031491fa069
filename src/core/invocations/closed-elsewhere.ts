import type { RequestRow } from '../../db/requests-repo.js';
import { EXIT } from '../../base/errors.js';
import type { InvocationDeps, Outcome } from './invocation.js';

/**
 * Another process closed a running invocation's row and removed its service (`request cancel`,
 * `fn delete --force`): the CLI watching it answers with what the row says, not with the
 * engine's view of a service that vanished under it ("service not found", "task ended").
 * Undefined while the row is still open (then the watcher's own error stands).
 */
export async function closedElsewhere(deps: InvocationDeps, requestId: string): Promise<Outcome | undefined> {
  const row = await deps.store.requests.byIdAnyUser(requestId);
  if (!row || row.status === 'pending' || row.status === 'running') return undefined;
  return outcomeOfRow(row);
}

function outcomeOfRow(r: RequestRow): Outcome {
  const status = r.status as Outcome['completion']['status'];
  const exitCode = status === 'success' ? EXIT.ok : status === 'system_error' ? EXIT.platform : EXIT.functionFailed;
  return {
    completion: {
      status,
      result: r.result,
      error: r.error,
      output: r.output ?? '',
      outputTruncated: r.outputTruncated,
      durationMs: r.durationMs,
      cpuMs: r.cpuMs,
      maxRssKb: r.maxRssKb,
      node: r.node,
      finishedAt: r.finishedAt ?? r.createdAt,
    },
    exitCode,
    message: r.error ?? undefined,
  };
}
