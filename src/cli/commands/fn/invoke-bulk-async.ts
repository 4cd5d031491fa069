import type { BulkSource } from '../../../core/invocations/bulk-invoke.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { requireActor } from '../../session.js';
import { lineWriter } from '../../line-writer.js';
import type { InvokeOptions } from './options.js';

/**
 * `--bulk --async`: one queued request per line; their ids as NDJSON, in input order. Every
 * run has an id (its lines are keyed RUN:LINE): `--resume RUN` queues only the lines not
 * queued before and prints every line's request, the earlier ones with "repeat": true.
 */
export async function queueInputs(ctx: Context, name: string, source: BulkSource, opts: InvokeOptions): Promise<void> {
  const { actor } = await requireActor(ctx);
  const { enqueueBulk } = await import('../../../core/dispatch/bulk-enqueue.js');
  const deps = await functionDeps(ctx);
  const resumeId = typeof opts.resume === 'string' ? opts.resume : undefined;
  if (opts.resume === true && opts.idempotencyKey === undefined) {
    const { UsageError } = await import('../../../base/errors.js');
    throw new UsageError('--bulk --async --resume needs the run id it printed (--resume RUN)', { code: 'resume_needs_id' });
  }
  const key = resumeId ?? opts.idempotencyKey ?? deps.newId();
  if (!ctx.io.options.quiet && !resumeId && opts.idempotencyKey === undefined)
    ctx.io.err(`run ${key}: faasctl fn invoke ${name} --bulk ${source.label} --async --resume ${key} queues what is missing`);
  const out = lineWriter(ctx.io.streams.stdout, () => {});
  let n: { queued: number; repeats: number };
  try {
    n = await enqueueBulk(deps, actor, {
      name,
      lines: source.lines,
      label: source.label,
      key,
      resume: resumeId !== undefined || opts.resume === true,
      onQueued: async (lines) => {
        for (const q of lines) await out.write(JSON.stringify(q));
      },
    });
  } finally {
    await out.end();
  }
  if (!ctx.io.options.quiet) ctx.io.err(`queued ${n.queued} request(s) for ${name}${n.repeats ? ` (${n.repeats} line(s) already queued under their key)` : ''}; faasctl request wait ID follows one`);
}
