import { AuthError, UsageError } from '../../base/errors.js';
import type { Store } from '../../db/store.js';
import { submitInvocation, type Submitted } from '../dispatch/submit.js';
import { requireFunction } from '../functions/lookup.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import type { Actor } from '../users/accounts.js';
import { openSecret, sealSecret, signatureMatches } from './webhook-signature.js';

/**
 * Signed webhooks: `POST /v1/hooks/USER/NAME` runs the function as its owner when the body's
 * HMAC verifies, with no token. The path names the user because function names are unique per
 * user only. One answer for every refusal (no such function, no secret set, a bad signature),
 * so a caller without the secret learns nothing about which functions take webhooks.
 */
export const WEBHOOK_KEY = 'webhook_public_key';

const refused = () =>
  new AuthError('the webhook signature does not verify', {
    code: 'bad_signature',
    hint: "send X-Faasctl-Signature: sha256=HEX, the HMAC-SHA256 of the raw body under the function's webhook secret",
  });

export async function callWebhook(
  deps: InvokeDeps & { webhookKey?: string },
  o: { user: string; fn: string; body: Buffer; signature?: string; async: boolean; signal?: AbortSignal },
  /** The rate limit, taken only once the signature verified: unsigned junk cannot use up the sender's allowance. */
  admit: () => void,
): Promise<Submitted> {
  const hook = await deps.store.functions.webhookOf(o.user, o.fn);
  if (!hook || !deps.webhookKey) throw refused();
  const secret = opened(deps.webhookKey, hook.sealed);
  if (secret === undefined) {
    // Sealed under an earlier key (the dispatcher's key was made anew): the owner sets it again.
    deps.log.debug(`webhook ${o.user}/${o.fn}: its secret was sealed under another key`);
    throw refused();
  }
  if (!signatureMatches(secret, o.body, o.signature)) throw refused();
  admit();
  const actor: Actor = { id: hook.userId, name: hook.userName, via: { kind: 'webhook' } };
  const input = o.body.length ? o.body.toString('utf8') : undefined;
  const noRepeat = async (): Promise<never> => {
    throw new UsageError('idempotency keys are not taken by webhooks');
  };
  return submitInvocation(deps, actor, { name: o.fn, input, async: o.async, signal: o.signal }, noRepeat);
}

/**
 * Opened secrets, by their sealed bytes: an RSA private-key operation costs about a millisecond,
 * so a flood of unsigned calls must not pay it each time (a changed secret is new sealed bytes).
 */
const openedSecrets = new Map<string, string>();

function opened(key: string, sealed: Buffer): string | undefined {
  const id = sealed.toString('base64');
  let secret = openedSecrets.get(id);
  if (secret !== undefined) return secret;
  try {
    secret = openSecret(key, sealed);
  } catch {
    return undefined;
  }
  if (openedSecrets.size >= 1000) openedSecrets.clear();
  openedSecrets.set(id, secret);
  return secret;
}

/** `fn update NAME --webhook-secret-stdin` / `--no-webhook`: seal it with the dispatcher's public key, or drop it. */
export async function setWebhookSecret(store: Store, actor: Actor, name: string, secret: string | null): Promise<{ name: string; webhook: boolean; path: string }> {
  const fn = await requireFunction(store, actor, name);
  let sealed: Buffer | null = null;
  if (secret !== null) {
    if (secret.length < 16) throw new UsageError('a webhook secret needs at least 16 characters', { code: 'weak_secret', hint: 'e.g. openssl rand -hex 32' });
    const key = (await store.meta.get(WEBHOOK_KEY))?.value;
    if (!key) throw new UsageError('webhooks need the dispatcher: it holds the key that opens their secrets', { code: 'no_dispatcher', hint: 'faasctl up --dispatcher --api-port PORT' });
    sealed = sealSecret(key, secret);
  }
  await store.functions.setWebhookSecret(fn.id, sealed);
  return { name: fn.name, webhook: sealed !== null, path: `/v1/hooks/${actor.name}/${fn.name}` };
}
