import type { RequestRow } from '../../db/requests-repo.js';
import { EXIT } from '../../base/errors.js';
import type { Outcome } from '../invocations/invocation.js';

/** A request that ended before this process looked: its row says how (for `request wait` and an idempotent repeat). */
export function recordedOutcome(r: RequestRow): Outcome {
  const exitCode = r.status === 'success' ? EXIT.ok : r.status === 'system_error' ? EXIT.platform : r.error?.includes('Timeout') ? EXIT.timeout : EXIT.functionFailed;
  return {
    completion: {
      status: r.status as Outcome['completion']['status'],
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
    message: r.error?.split('\n').filter(Boolean).pop() ?? undefined,
  };
}
