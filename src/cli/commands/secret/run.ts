import { readFile } from 'node:fs/promises';
import { UsageError } from '../../../base/errors.js';
import { createSecret, listSecrets, removeSecret } from '../../../core/functions/secrets.js';
import { validateSecretName } from '../../../base/names.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { requireActor } from '../../session.js';
import type { SecretCreateOptions } from './options.js';

export async function runSecretCreate(ctx: Context, name: string, opts: SecretCreateOptions): Promise<void> {
  validateSecretName(name); // before reading anything: a typo should not cost the user a paste
  const value = await readSecretValue(ctx, name, opts);
  const { actor } = await requireActor(ctx);
  const created = await createSecret(await functionDeps(ctx), actor, { name, value });
  if (ctx.io.options.json) return ctx.io.json(created);
  if (ctx.io.options.quiet) return ctx.io.out(created.name);
  ctx.io.info(`created secret ${created.name}: mount it with faasctl fn deploy FILE --secret ${created.name}`);
}

export async function runSecretList(ctx: Context): Promise<void> {
  const { actor } = await requireActor(ctx);
  const rows = await listSecrets(await ctx.store(), actor);
  if (ctx.io.options.json) return ctx.io.json(rows.map((s) => ({ name: s.name, usedBy: s.usedBy, createdAt: s.createdAt.toISOString() })));
  if (ctx.io.options.quiet) {
    for (const s of rows) ctx.io.out(s.name);
    return;
  }
  await ctx.io.table(
    ['name', 'used by', 'created'],
    rows.map((s) => [s.name, s.usedBy.join(', ') || '-', s.createdAt.toISOString()]),
  );
}

export async function runSecretRemove(ctx: Context, name: string): Promise<void> {
  const { actor } = await requireActor(ctx);
  const removed = await removeSecret(await functionDeps(ctx), actor, { name });
  if (ctx.io.options.json) return ctx.io.json(removed);
  ctx.io.info(`removed secret ${removed.name}`);
}

/**
 * --from-file, else stdin when it is not a terminal, else a hidden prompt. Never an
 * argument: arguments show up in `ps` and in shell history.
 */
export async function readSecretValue(ctx: Context, name: string, opts: SecretCreateOptions): Promise<string> {
  let value: string;
  if (opts.fromFile !== undefined) value = await readValueFile(opts.fromFile);
  else if (ctx.io.stdinIsTTY) value = await ctx.prompter.password(`Value of ${name}:`);
  else value = await readStdin(ctx);
  value = value.replace(/\r?\n$/, '');
  if (!value) {
    const from = opts.fromFile !== undefined ? opts.fromFile : ctx.io.stdinIsTTY ? 'the prompt' : 'stdin';
    throw new UsageError(`no value for secret "${name}": ${from} gave nothing`, { code: 'empty_secret', hint: `printf '%s' "$VALUE" | faasctl secret create ${name}, or --from-file FILE` });
  }
  return value;
}

async function readStdin(ctx: Context): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.streams.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function readValueFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The error names the file only: a message never carries any of its content.
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'read failed')}`, { code: 'bad_file' });
  }
}
