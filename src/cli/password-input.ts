import { UsageError } from '../base/errors.js';
import type { Context } from './context.js';

export interface PasswordSource {
  passwordStdin?: boolean;
}

/**
 * A password from --password-stdin, else $FAASCTL_PASSWORD, else a hidden prompt on a
 * terminal. Never from an argument: arguments show up in `ps` and shell history.
 */
export async function readPassword(ctx: Context, source: PasswordSource, message = 'Password:'): Promise<string> {
  if (source.passwordStdin) return readStdinLine(ctx);
  const fromEnv = ctx.env.FAASCTL_PASSWORD;
  if (fromEnv) return fromEnv;
  return ctx.prompter.password(message);
}

/** For a new password on a terminal: asked twice. */
export async function readNewPassword(ctx: Context, source: PasswordSource): Promise<string> {
  if (source.passwordStdin || ctx.env.FAASCTL_PASSWORD) return readPassword(ctx, source);
  const first = await ctx.prompter.password('New password:');
  const again = await ctx.prompter.password('Repeat it:');
  if (first !== again) throw new UsageError('the two passwords differ', { hint: 'run the command again' });
  return first;
}

async function readStdinLine(ctx: Context): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.streams.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!text) throw new UsageError('--password-stdin got nothing on stdin', { hint: 'e.g. printf \'%s\' "$PASSWORD" | faasctl login NAME --password-stdin' });
  return text;
}
