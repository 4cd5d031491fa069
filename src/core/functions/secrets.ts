import type { SecretRow } from '../../db/secrets-repo.js';
import type { Store } from '../../db/store.js';
import type { SwarmClient } from '../../swarm/client.js';
import type { SecretMount } from '../../swarm/sandbox.js';
import { installationLabel, LABELS, componentLabels, SECRET_NAME_LABEL } from '../../swarm/labels.js';
import { ConflictError, NotFoundError, UsageError } from '../../base/errors.js';
import { validateSecretName } from '../../base/names.js';
import type { Clock, Logger } from '../../base/ports.js';
import type { Actor } from '../users/accounts.js';
import { secretObjectName } from '../../swarm/names.js';

/**
 * User secrets. The value goes from the CLI straight into a Swarm secret (which the Engine
 * API never returns) and from there into the tasks that mount it; the database, the request
 * log, the debug log and every message carry the name only.
 */

/** Swarm's limit for a secret's data. */
export const MAX_SECRET_BYTES = 500 * 1024;

export interface SecretDeps {
  store: Store;
  swarm: SwarmClient;
  clock: Clock;
  log: Logger;
  newId: () => string;
}

/** `--secret NAME` flags: validated, deduplicated and sorted (so an unchanged set compares equal). */
export function parseSecretNames(names: string[] = []): string[] {
  return [...new Set(names.map(validateSecretName))].sort();
}

/** For `fn update`: `--secret NAME` adds, `--secret -NAME` removes; no flag keeps the current set. */
export function applySecretFlags(flags: string[] | undefined, current: string[] = []): string[] {
  if (!flags?.length) return [...current].sort();
  const set = new Set(current);
  for (const flag of flags) {
    if (flag.startsWith('-')) set.delete(validateSecretName(flag.slice(1)));
    else set.add(validateSecretName(flag));
  }
  return [...set].sort();
}

export interface CreatedSecret {
  name: string;
  createdAt: string;
  requestId: string;
}

export async function createSecret(deps: SecretDeps, actor: Actor, input: { name: string; value: string }): Promise<CreatedSecret> {
  const name = validateSecretName(input.name);
  const bytes = Buffer.byteLength(input.value);
  if (bytes === 0) throw new UsageError(`the value of secret "${name}" is empty`, { code: 'empty_secret', hint: 'pipe the value on stdin or use --from-file FILE' });
  if (bytes > MAX_SECRET_BYTES) throw new UsageError(`the value of secret "${name}" is ${bytes} bytes; the limit is ${MAX_SECRET_BYTES}`, { code: 'secret_too_large' });
  if ((await deps.store.secrets.byNames(actor.id, [name])).length) throw taken(name);
  const installation = await deps.store.meta.installationId();
  const swarmName = secretObjectName(installation, actor.id, name);
  const labels = { ...componentLabels('secret'), ...installationLabel(installation), [LABELS.user]: actor.id, [SECRET_NAME_LABEL]: name };
  const started = deps.clock.now();
  const requestId = deps.newId();
  let secretId: string;
  try {
    secretId = await deps.swarm.createSecret(swarmName, input.value, labels);
  } catch (err) {
    // A Swarm secret without its row: left by a crash; the CLI cannot tell what it holds.
    if (err instanceof ConflictError) throw new ConflictError(`a Swarm secret named ${swarmName} already exists`, { code: 'name_taken', hint: `docker secret rm ${swarmName}, then create it again` });
    throw err;
  }
  try {
    await deps.store.transaction(async (tx) => {
      await tx.secrets.insert({ userId: actor.id, name, swarmName });
      await tx.requests.insert({ ...finished(deps.clock, requestId, started), userId: actor.id, type: 'secret.create', params: { name, bytes } });
    });
  } catch (err) {
    await deps.swarm.removeSecret(secretId).catch((e: Error) => deps.log.debug(`could not remove secret ${swarmName}: ${e.message}`));
    throw err instanceof ConflictError ? taken(name) : err;
  }
  return { name, createdAt: started.toISOString(), requestId };
}

export interface SecretInfo {
  name: string;
  createdAt: Date;
  usedBy: string[];
}

export async function listSecrets(store: Store, actor: Actor): Promise<SecretInfo[]> {
  const rows = await store.secrets.list(actor.id);
  return Promise.all(rows.map(async (r) => ({ name: r.name, createdAt: r.createdAt, usedBy: await store.secrets.usedBy(actor.id, r.name) })));
}

/** Refused while any version of the user's functions mounts it (rollback could bring it back). */
export async function removeSecret(deps: SecretDeps, actor: Actor, input: { name: string }): Promise<{ name: string; requestId: string }> {
  const name = validateSecretName(input.name);
  const started = deps.clock.now();
  const requestId = deps.newId();
  await deps.store.transaction(async (tx) => {
    const row = await tx.secrets.byNameForUpdate(actor.id, name);
    if (!row) throw notFound(name);
    const users = await tx.secrets.usedBy(actor.id, name);
    if (users.length)
      throw new ConflictError(`secret "${name}" is used by ${users.map((f) => `"${f}"`).join(', ')}`, {
        code: 'in_use',
        hint: 'every version counts (a rollback would mount it): faasctl fn delete removes a function and its versions',
      });
    await tx.secrets.remove(actor.id, name);
    await tx.requests.insert({ ...finished(deps.clock, requestId, started), userId: actor.id, type: 'secret.rm', params: { name } });
    // Inside the transaction: should Swarm refuse (a task still mounts it), the row stays.
    await removeSwarmSecret(deps, row);
  });
  return { name, requestId };
}

/** A task removed a moment ago may still hold the secret: retry briefly, as for token secrets. */
async function removeSwarmSecret(deps: Pick<SecretDeps, 'swarm' | 'clock'>, row: SecretRow): Promise<void> {
  const found = await deps.swarm.findSecret(row.swarmName);
  if (!found) return;
  for (let attempt = 0; ; attempt++) {
    try {
      return await deps.swarm.removeSecret(found.id);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 8) {
        throw err instanceof ConflictError ? new ConflictError(`secret "${row.name}" is still mounted by a running task`, { code: 'in_use', hint: 'try again when it has ended' }) : err;
      }
      await deps.clock.sleep(150 * (attempt + 1));
    }
  }
}

/** Before a deploy stores anything: every named secret must be the user's. */
export async function requireSecrets(store: Pick<Store, 'secrets'>, userId: string, names: string[], lock = false): Promise<void> {
  if (!names.length) return;
  const found = new Set((await store.secrets.byNames(userId, names, lock)).map((r) => r.name));
  const missing = names.filter((n) => !found.has(n));
  if (missing.length)
    throw new NotFoundError(`secret${missing.length === 1 ? '' : 's'} ${missing.map((n) => `"${n}"`).join(', ')} not found`, {
      code: 'secret_not_found',
      hint: 'faasctl secret create NAME < value-file; faasctl secret ls shows yours',
    });
}

/** The Swarm secrets behind a version's names, for its service spec. */
export async function secretMountsFor(deps: { store: Store; swarm: SwarmClient }, userId: string, names: string[] = []): Promise<SecretMount[]> {
  if (!names.length) return [];
  const rows = await deps.store.secrets.byNames(userId, names);
  return Promise.all(
    names.map(async (name) => {
      const row = rows.find((r) => r.name === name);
      const found = row && (await deps.swarm.findSecret(row.swarmName));
      if (!found) throw new NotFoundError(`secret "${name}" of this function is missing`, { code: 'secret_not_found', hint: `faasctl secret create ${name} recreates it` });
      return { name, secretId: found.id, secretName: found.name };
    }),
  );
}

function taken(name: string): ConflictError {
  return new ConflictError(`you already have a secret named "${name}"`, { code: 'name_taken', hint: `secrets are immutable: faasctl secret rm ${name}, then create it again` });
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`secret "${name}" not found`, { hint: 'faasctl secret ls shows yours' });
}

function finished(clock: Clock, id: string, started: Date) {
  const end = clock.now();
  return { id, status: 'success' as const, startedAt: started, finishedAt: end, durationMs: end.getTime() - started.getTime() };
}
