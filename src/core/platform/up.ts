import { ConnectionError } from '../../base/errors.js';
import type { Clock, Logger } from '../../base/ports.js';
import { deployPostgres, type PostgresDeps, type PostgresOptions } from './postgres-service.js';
import { redactUrl } from '../../config/resolve.js';
import type { SwarmClient } from '../../swarm/client.js';
import { BASE_ID_LABEL } from '../../swarm/labels.js';

export interface UpStep {
  step: string;
  /** created | exists | applied */
  outcome: string;
  detail: string;
}

export interface UpDeps {
  swarm: SwarmClient;
  log: Logger;
  progress: (text: string) => void;
  /** For the wait on a Swarm that is coming back after an engine restart. */
  clock?: Clock;
}

/** How long `up` waits for a Swarm node that is `pending` (its engine just restarted). */
const SWARM_BACK_MS = 60_000;
/** A manager restarting reports itself active before its control plane is: a short wait tells it from a worker. */
const MANAGER_BACK_MS = 10_000;

export interface SwarmStepOptions {
  swarmInit: boolean;
  advertiseAddr: string;
}

/** Swarm mode: initialised only when asked, since it changes the engine for good. */
export async function ensureSwarm(deps: UpDeps, options: SwarmStepOptions): Promise<UpStep> {
  const state = await settledSwarmState(deps);
  if (state.localNodeState === 'active') {
    if (!state.isManager) throw new ConnectionError('this engine is a Swarm worker; faasctl needs a manager', { hint: 'point --host at a manager node' });
    return { step: 'swarm', outcome: 'exists', detail: 'active, manager' };
  }
  if (!options.swarmInit) {
    throw new ConnectionError(`the engine at ${deps.swarm.endpoint} is not in Swarm mode`, {
      code: 'no_swarm',
      hint: 'run faasctl up --swarm-init (advertises 127.0.0.1 unless --advertise-addr is given)',
    });
  }
  deps.progress('initialising Swarm mode…');
  await deps.swarm.initSwarm(options.advertiseAddr);
  return { step: 'swarm', outcome: 'created', detail: `initialised, advertising ${options.advertiseAddr}` };
}

export interface RuntimeImageOptions {
  image: string;
  baseImage: string;
  contextDir: string;
  /** Set on a multi-node Swarm: the image goes there, and services name it by digest. */
  registry?: string;
}

/**
 * Builds the runtime image when this faasctl's runtime (by content hash) is not on the
 * engine, or was built from another base image than the one now under that name (a base
 * rebuilt with pip, say): the tag names the runtime, the label its base.
 */
export async function ensureRuntimeImage(deps: UpDeps, options: RuntimeImageOptions): Promise<UpStep[]> {
  const steps: UpStep[] = [];
  const [labels, baseId] = await Promise.all([deps.swarm.imageLabels(options.image), deps.swarm.imageId(options.baseImage)]);
  // A base not on the engine yet is pulled by the build; an existing runtime is then kept as it is.
  const stale = labels !== undefined && baseId !== undefined && labels[BASE_ID_LABEL] !== baseId;
  if (labels && !stale) {
    steps.push({ step: 'runtime image', outcome: 'exists', detail: options.image });
  } else {
    deps.progress(`building ${options.image} from ${options.baseImage}…`);
    await deps.swarm.buildImage(options.contextDir, options.image, { BASE_IMAGE: options.baseImage }, (line) => deps.log.debug(`build: ${line}`), baseId ? { [BASE_ID_LABEL]: baseId } : {});
    steps.push({ step: 'runtime image', outcome: stale ? 'rebuilt' : 'created', detail: `${options.image} (from ${options.baseImage}${stale ? ', which changed' : ''})` });
  }
  if (options.registry) steps.push(await ensurePushed(deps, options.image, options.registry));
  return steps;
}

/** Pushes an image the registry does not hold yet; a pushed one is left alone. */
export async function ensurePushed(deps: UpDeps, image: string, registry: string): Promise<UpStep> {
  const pinned = await deps.swarm.pushedDigest(image);
  if (pinned) return { step: 'registry', outcome: 'exists', detail: pinned };
  deps.progress(`pushing ${image} to ${registry}…`);
  const pushed = await deps.swarm.pushImage(image, (line) => deps.log.debug(`push: ${line}`));
  return { step: 'registry', outcome: 'created', detail: pushed };
}

export interface DatabaseStepOptions extends PostgresOptions {
  /** The URL already resolved for this run, and where it came from. */
  configured?: { url: string; source: string };
}

/** A configured database is used as it is; otherwise faasctl deploys one on the cluster. */
export async function ensureDatabase(deps: PostgresDeps, options: DatabaseStepOptions): Promise<UpStep> {
  if (options.configured) {
    return { step: 'database', outcome: 'exists', detail: `${redactUrl(options.configured.url)} (${options.configured.source})` };
  }
  const deployed = await deployPostgres(deps, options);
  const seconds = (deployed.readyMs / 1000).toFixed(1);
  const volume = deployed.volumeExisted ? ', existing volume' : '';
  return {
    step: 'database',
    outcome: 'created',
    detail: `PostgreSQL service ${options.name} (${options.image}${volume}) at ${options.host}:${options.port}, ready in ${seconds} s; URL saved in context "${options.contextName}"`,
  };
}

/**
 * After an engine restart (a reboot) its Swarm is `pending` for a few seconds, and a manager
 * may not have its control plane yet: wait, bounded, rather than call it "not in Swarm mode"
 * (and with --swarm-init, try to initialise a swarm that exists). Issue 17.
 */
async function settledSwarmState(deps: UpDeps): ReturnType<SwarmClient['swarmState']> {
  const started = deps.clock?.now().getTime() ?? 0;
  for (;;) {
    const state = await deps.swarm.swarmState();
    const waited = (deps.clock?.now().getTime() ?? 0) - started;
    const pending = state.localNodeState === 'pending' && waited < SWARM_BACK_MS;
    const managerStarting = state.localNodeState === 'active' && !state.isManager && waited < MANAGER_BACK_MS;
    if (!deps.clock || !(pending || managerStarting)) return state;
    deps.log.debug(`up: Swarm is ${state.localNodeState}${state.isManager ? '' : ', not (yet) a manager'} after ${(waited / 1000).toFixed(1)} s; waiting for it`);
    deps.progress(`waiting for Swarm mode on ${deps.swarm.endpoint} (${state.localNodeState}) after an engine restart…`);
    await deps.clock.sleep(500);
  }
}
