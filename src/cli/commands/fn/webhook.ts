import { UsageError } from '../../../base/errors.js';
import { setWebhookSecret } from '../../../core/api/webhooks.js';
import type { Context } from '../../context.js';
import { requireActor } from '../../session.js';
import type { WebhookFlags } from './options.js';

/**
 * `fn update NAME --webhook-secret-stdin` / `--no-webhook`: the secret is read from stdin (never
 * an argument), sealed for the dispatcher and stored; nothing prints it back.
 */
export async function runWebhook(ctx: Context, name: string, flags: WebhookFlags, o: { quietJson?: boolean } = {}): Promise<void> {
  if (flags.webhookSecretStdin && flags.webhook === false) throw new UsageError('give --webhook-secret-stdin or --no-webhook, not both');
  let secret: string | null = null;
  if (flags.webhookSecretStdin) {
    if (ctx.io.stdinIsTTY)
      throw new UsageError('--webhook-secret-stdin reads the secret from stdin, which is a terminal', {
        hint: 'openssl rand -hex 32 | tee hook.secret | faasctl fn update NAME --webhook-secret-stdin',
      });
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.io.streams.stdin) chunks.push(Buffer.from(chunk as Buffer));
    secret = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  const { actor } = await requireActor(ctx);
  const set = await setWebhookSecret(await ctx.store(), actor, name, secret);
  if (ctx.io.options.json && !o.quietJson) return ctx.io.json(set);
  if (!ctx.io.options.quiet) ctx.io.info(set.webhook ? `webhook on: POST ${set.path} with X-Faasctl-Signature: sha256=HMAC(body)` : `webhook off for ${set.name}`);
}
