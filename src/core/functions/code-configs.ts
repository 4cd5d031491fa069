import type { SwarmClient } from '../../swarm/client.js';
import { codeConfigName } from '../../swarm/names.js';
import { installationLabel, LABELS, componentLabels } from '../../swarm/labels.js';
import { ConflictError } from '../../base/errors.js';
import type { Clock } from '../../base/ports.js';
import type { FunctionDeps } from './lookup.js';

/** A version's code published to Swarm as an immutable config named by its hash, shared by every version with the same code. */
/** Swarm stores a config of at most 500 KiB; code and input travel as configs. */
export const MAX_CODE_BYTES = 500 * 1024;

/** Creates the code's config unless it exists; answers whether this call created it. */
export async function ensureCodeConfig(swarm: SwarmClient, installation: string, sha256: string, code: string | Buffer): Promise<boolean> {
  const name = codeConfigName(installation, sha256);
  if (await swarm.findConfig(name)) return false;
  try {
    await swarm.createConfig(name, code, { ...componentLabels('code'), ...installationLabel(installation), [LABELS.sha256]: sha256 });
    return true;
  } catch (err) {
    if (err instanceof ConflictError) return false; // a concurrent deploy of the same code
    throw err;
  }
}

/** Removes the configs of these hashes that no version refers to; one still in use by a running invocation is left for gc. */
export async function removeUnusedCodeConfigs(deps: Pick<FunctionDeps, 'store' | 'swarm' | 'log'> & { clock?: Clock }, shas: string[]): Promise<number> {
  const inUse = await deps.store.functions.shasInUse(shas);
  const installation = await deps.store.meta.installationId();
  let removed = 0;
  for (const sha of shas.filter((s) => !inUse.has(s))) {
    const config = await deps.swarm.findConfig(codeConfigName(installation, sha));
    if (!config) continue;
    // A service removed a moment ago (a warm one) may still count as a user: retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        if (await deps.swarm.removeConfig(config.id)) removed++;
        break;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        if (!deps.clock || attempt >= 8) {
          deps.log.debug(`config ${config.name} still in use; gc removes it later`);
          break;
        }
        await deps.clock.sleep(150 * (attempt + 1));
      }
    }
  }
  return removed;
}
