import { randomBytes, randomUUID } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConflictError, EXIT, UsageError } from '../../../base/errors.js';
import type { Outcome } from '../../../core/invocations/invocation.js';
import { runLocally } from '../../../core/invocations/local-run.js';
import { functionSkeleton } from '../../../core/functions/skeleton.js';
import { runtimeImageRef } from '../../../runtime/python.js';
import type { Context } from '../../context.js';
import { withInterrupt } from '../../deps.js';
import { nodeLocalFiles, readFunctionSource } from './source.js';
import { printOutcome, readInput } from './invoke.js';
import type { FnNewOptions, FnRunOptions } from './options.js';

export async function runNew(ctx: Context, name: string, opts: FnNewOptions): Promise<void> {
  const s = functionSkeleton(name);
  const dir = opts.dir ?? '.';
  const files = [join(dir, s.codeFile), join(dir, s.inputFile)];
  // Both or neither: check first, then create exclusively ('wx') so a race cannot overwrite either.
  for (const file of files)
    if (await exists(file)) throw new ConflictError(`${file} already exists; nothing was written`, { code: 'file_exists', hint: 'pick another NAME or --dir, or move the file away' });
  try {
    await writeFile(files[0], s.code, { flag: 'wx' });
    await writeFile(files[1], s.input, { flag: 'wx' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw new ConflictError(`${e.path ?? 'a file'} already exists`, { code: 'file_exists', hint: 'pick another NAME or --dir' });
    if (e.code === 'ENOENT') throw new UsageError(`no such directory: ${dir}`, { code: 'bad_dir', hint: `mkdir -p ${dir}` });
    throw err;
  }
  if (ctx.io.options.json) return ctx.io.json({ name, code: files[0], input: files[1] });
  ctx.io.out(files[0]);
  ctx.io.out(files[1]);
  ctx.io.info(`try it: faasctl fn run ${files[0]} --data-file ${files[1]}`);
}

export async function runLocal(ctx: Context, path: string, opts: FnRunOptions): Promise<void> {
  const source = await readFunctionSource(path, opts);
  const { code, file } = source;
  const input = await readInput(ctx, opts);
  const cfg = await ctx.config();
  const swarm = await ctx.swarm();
  const relay = (_stream: 'stdout' | 'stderr', text: string) => {
    // As fn invoke: the function's own output on stderr, stdout for the result alone.
    ctx.io.relay(text);
  };
  const deps = {
    swarm,
    clock: ctx.clock,
    log: ctx.log,
    newId: randomUUID,
    newNonce: () => randomBytes(16).toString('base64url'),
    runtimeImage: () => runtimeImageRef(cfg.registry.value),
    files: nodeLocalFiles,
  };
  const run = await withInterrupt((signal) =>
    runLocally(deps, {
      code,
      archive: source.archive,
      filename: source.filename,
      input,
      entry: opts.entry,
      flavor: opts.flavor,
      limits: opts,
      env: opts.env,
      dependencies: source.dependencies ?? undefined,
      signal,
      onOutput: relay,
    }),
  );
  printOutcome(ctx, null, run.outcome, basename(file), { mode: 'local', version: null }, (o) => hintFor(o, file));
}

function hintFor(o: Outcome, file: string): string | undefined {
  if (o.exitCode === EXIT.interrupted) return undefined;
  if (o.frame?.status === 'oom') return `raise the limit: faasctl fn run ${file} --memory 512m`;
  if (o.frame?.status === 'timeout' || o.exitCode === EXIT.timeout) return `raise the limit: faasctl fn run ${file} --timeout 2m`;
  if (o.exitCode === EXIT.platform) return 'run faasctl doctor';
  return 'the traceback above shows where it failed';
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
  );
}
