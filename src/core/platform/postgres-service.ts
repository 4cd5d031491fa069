import { ConflictError, UsageError } from '../../base/errors.js';
import type { Clock, Logger } from '../../base/ports.js';
import { waitForPostgres } from './postgres-wait.js';
import type { SwarmClient } from '../../swarm/client.js';
import { buildPostgresServiceSpec, POSTGRES_DB, POSTGRES_USER } from '../../swarm/spec.js';
import { componentLabels } from '../../swarm/labels.js';

export { DEFAULT_POSTGRES_IMAGE, DEFAULT_POSTGRES_NAME, DEFAULT_POSTGRES_PORT } from './defaults.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,40}$/;

/** The service name; `-password` and `-data` are appended for the secret and the volume. */
export function validatePostgresName(name: string): string {
  if (!NAME.test(name)) {
    throw new UsageError(`invalid PostgreSQL service name "${name}"`, { hint: 'use 1-41 lower-case letters, digits or "-", starting with a letter or digit' });
  }
  return name;
}

export function postgresObjectNames(name: string): { service: string; secret: string; volume: string } {
  return { service: name, secret: `${name}-password`, volume: `${name}-data` };
}

/**
 * Where this machine reaches the published port: a unix:// engine runs here (127.0.0.1), a
 * tcp:// one on its host. The task is pinned to that engine's node, so the address is stable.
 */
export function databaseHost(dockerHost: string): string {
  if (dockerHost.startsWith('unix:')) return '127.0.0.1';
  try {
    return new URL(dockerHost.includes('://') ? dockerHost : `tcp://${dockerHost}`).hostname || '127.0.0.1';
  } catch {
    return '127.0.0.1';
  }
}

export interface PostgresDeps {
  swarm: SwarmClient;
  clock: Clock;
  log: Logger;
  progress: (text: string) => void;
  /** Something the user must know even with --json (stderr), e.g. a leftover to remove by hand. */
  warn: (text: string) => void;
  /** Resolves once a real query works at `url`; rejects with AuthError when the login is refused. */
  probe: (url: string) => Promise<void>;
  randomPassword: () => string;
  /** Stores the URL. Inside the deploy: if it fails, the password would be lost, so all is undone. */
  saveUrl: (url: string) => Promise<void>;
}

export interface PostgresOptions {
  name: string;
  image: string;
  port: number;
  /** The host part of the URL (see databaseHost). */
  host: string;
  /** For messages: the context that has no database URL. */
  contextName: string;
  /** @default 120_000 */
  timeoutMs?: number;
}

export interface DeployedPostgres {
  url: string;
  readyMs: number;
  volumeExisted: boolean;
}

interface Created {
  serviceId?: string;
  secretId?: string;
  volume?: string;
}

/**
 * Deploys PostgreSQL as a Swarm service with a fresh password in a secret, waits until it
 * answers a query, then saves the URL. Any failure removes what this run created (a volume
 * that was there before stays) and rethrows the original error: nothing is left half-made.
 */
export async function deployPostgres(deps: PostgresDeps, o: PostgresOptions): Promise<DeployedPostgres> {
  const names = postgresObjectNames(o.name);
  const nodeId = await managerNodeId(deps.swarm);
  await refuseLeftovers(deps.swarm, o);
  const volumeExisted = await deps.swarm.volumeExists(names.volume);
  const started = deps.clock.now().getTime();
  const created: Created = {};
  try {
    const password = deps.randomPassword();
    const url = `postgres://${POSTGRES_USER}:${encodeURIComponent(password)}@${o.host}:${o.port}/${POSTGRES_DB}`;
    const labels = componentLabels('postgres');
    deps.progress(`creating the PostgreSQL service ${o.name}…`);
    const secretId = await deps.swarm.createSecret(names.secret, password, labels);
    created.secretId = secretId;
    if (!volumeExisted) {
      await deps.swarm.createVolume(names.volume, labels);
      created.volume = names.volume;
    }
    const spec = buildPostgresServiceSpec({ name: o.name, image: o.image, port: o.port, nodeId, secretId, secretName: names.secret, volume: names.volume });
    created.serviceId = await deps.swarm.createService(spec);
    await waitForPostgres(deps, { service: o.name, serviceId: created.serviceId, url, image: o.image, port: o.port, volume: names.volume, timeoutMs: o.timeoutMs ?? 120_000 });
    await deps.saveUrl(url);
    return { url, readyMs: deps.clock.now().getTime() - started, volumeExisted };
  } catch (err) {
    await undo(deps, created);
    throw err;
  }
}

async function managerNodeId(swarm: SwarmClient): Promise<string> {
  const state = await swarm.swarmState();
  if (!state.nodeId || !state.isManager) throw new UsageError(`the engine at ${swarm.endpoint} is not a Swarm manager`, { hint: 'point --host at a manager node' });
  return state.nodeId;
}

/** The first deploy's password lives only in its secret and volume: never make a second one. */
async function refuseLeftovers(swarm: SwarmClient, o: PostgresOptions): Promise<void> {
  const names = postgresObjectNames(o.name);
  const service = await swarm.inspectService(names.service);
  const secret = service ? undefined : await swarm.findSecret(names.secret);
  if (!service && !secret) return;
  const what = service ? `service ${names.service}` : `secret ${names.secret}`;
  throw new ConflictError(`the PostgreSQL ${what} already exists, but context "${o.contextName}" has no database URL`, {
    code: 'postgres_exists',
    hint: `pass --db with its URL, or remove the old database: docker service rm ${names.service}; docker secret rm ${names.secret}; docker volume rm ${names.volume}`,
  });
}

async function undo(deps: PostgresDeps, created: Created): Promise<void> {
  const { serviceId, secretId, volume } = created;
  if (serviceId || secretId || volume) deps.progress('removing what this run created…');
  if (serviceId) await attempt(deps, `service ${serviceId}`, () => deps.swarm.removeService(serviceId));
  if (secretId) await attempt(deps, `secret ${secretId}`, () => deps.swarm.removeSecret(secretId));
  if (volume) await attempt(deps, `volume ${volume}`, () => removeVolumeWhenFree(deps, volume));
}

/** Cleanup must not hide the error that caused it: a failed removal is only reported. */
async function attempt(deps: PostgresDeps, what: string, remove: () => Promise<void>): Promise<void> {
  try {
    await remove();
  } catch (err) {
    deps.warn(`could not remove ${what} (${(err as Error).message}); remove it with docker`);
  }
}

/** The node's agent stops and removes the task's container after `service rm` returns. */
async function removeVolumeWhenFree(deps: PostgresDeps, volume: string): Promise<void> {
  const deadline = deps.clock.now().getTime() + 30_000;
  for (;;) {
    try {
      return await deps.swarm.removeVolume(volume);
    } catch (err) {
      if (!(err instanceof ConflictError) || deps.clock.now().getTime() >= deadline) throw err;
      await deps.clock.sleep(250);
    }
  }
}
