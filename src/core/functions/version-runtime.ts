import type { CurrentFunction } from '../../db/functions-repo.js';
import type { SwarmClient } from '../../swarm/client.js';
import { codeConfigName } from '../../swarm/names.js';
import type { VersionSettings } from '../../swarm/sandbox.js';
import { NotFoundError } from '../../base/errors.js';
import { ensureCodeConfig } from './code-configs.js';
import { swarmPlacement } from './placement.js';
import { secretMountsFor } from './secrets.js';
import type { FunctionDeps } from './lookup.js';

/** A version as the spec builders take it: the one place a version becomes what runs it. */
export interface VersionRuntime extends Omit<VersionSettings, 'image' | 'outputLimit'> {
  code: { configId: string; configName: string };
  labels: { functionId: string; functionName: string; version: number; userId: string };
}

/**
 * The current version of a function, ready to run cold (one service per invocation) or warm
 * (replicas): its code published as a config, its secrets resolved to mounts, its limits,
 * environment and placement. Both paths call this, so they cannot drift apart.
 */
export async function versionRuntime(deps: Pick<FunctionDeps, 'store'> & { swarm: SwarmClient }, fn: CurrentFunction, installation: string): Promise<VersionRuntime> {
  const v = fn.current;
  let code = await deps.swarm.findConfig(codeConfigName(installation, v.sha256));
  if (!code) {
    // Published again (gc removed it, or another installation's engine): a zip from its row.
    const archive = v.module ? await deps.store.functions.archive(v.sha256) : undefined;
    await ensureCodeConfig(deps.swarm, installation, v.sha256, archive ?? v.code);
    code = await deps.swarm.findConfig(codeConfigName(installation, v.sha256));
  }
  if (!code) throw new NotFoundError(`the code config of ${fn.name} v${v.version} vanished`, { hint: 'run the command again' });
  return {
    entry: v.entry,
    flavor: v.format,
    codeModule: v.module ?? null,
    timeoutMs: v.timeoutMs,
    memoryBytes: v.memoryBytes,
    nanoCpus: v.nanoCpus,
    env: v.env,
    code: { configId: code.id, configName: code.name },
    secrets: await secretMountsFor(deps, fn.userId, v.secrets),
    placement: swarmPlacement(v.placement),
    labels: { functionId: fn.id, functionName: fn.name, version: v.version, userId: fn.userId },
  };
}
