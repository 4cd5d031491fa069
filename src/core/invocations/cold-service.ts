import type { CurrentFunction } from '../../db/functions-repo.js';
import { buildInvocationServiceSpec } from '../../swarm/sandbox.js';
import { inputConfigName } from '../../swarm/names.js';
import { installationLabel, LABELS, componentLabels } from '../../swarm/labels.js';
import { removeInvocation, type InvocationDeps } from './invocation.js';
import { versionRuntime } from '../functions/version-runtime.js';

/** What the runtime relays of the function's output (stdout and stderr together). */
export const RUNTIME_OUTPUT_LIMIT = 1024 * 1024;

export interface StartInput {
  requestId: string;
  nonce: string;
  image: string;
  input: string;
  startedAt: Date;
}

/**
 * Creates a cold invocation's input config and service and marks its row running; on any
 * failure removes what it made and throws, leaving the row to the caller: `fn invoke` closes
 * it, the dispatcher may try again.
 */
export async function launchService(deps: InvocationDeps, fn: CurrentFunction, s: StartInput): Promise<string> {
  let serviceId: string | undefined;
  try {
    const installation = await deps.store.meta.installationId();
    const runtime = await versionRuntime(deps, fn, installation);
    const inputName = inputConfigName(s.requestId);
    const inputId = await deps.swarm.createConfig(inputName, s.input, { ...componentLabels('input'), ...installationLabel(installation), [LABELS.request]: s.requestId });
    serviceId = await deps.swarm.createService(
      buildInvocationServiceSpec({
        ...runtime,
        requestId: s.requestId,
        installation,
        image: s.image,
        nonce: s.nonce,
        outputLimit: RUNTIME_OUTPUT_LIMIT,
        input: { configId: inputId, configName: inputName },
      }),
    );
    await deps.store.requests.markRunning(s.requestId, serviceId);
    return serviceId;
  } catch (err) {
    await removeInvocation(deps, s.requestId, serviceId).catch((e: Error) => deps.log.debug(`clean-up after a failed start: ${e.message}`));
    throw err;
  }
}

/** launchService for a row nobody else will retry: a failed start closes it as a system error. */
export async function startService(deps: InvocationDeps, fn: CurrentFunction, s: StartInput): Promise<string> {
  try {
    return await launchService(deps, fn, s);
  } catch (err) {
    const now = deps.clock.now();
    await deps.store.requests
      .complete(s.requestId, {
        status: 'system_error',
        result: null,
        error: `could not start: ${(err as Error).message}`,
        output: '',
        outputTruncated: false,
        durationMs: now.getTime() - s.startedAt.getTime(),
        cpuMs: null,
        maxRssKb: null,
        node: null,
        finishedAt: now,
      })
      .catch((e: Error) => deps.log.debug(`could not close request ${s.requestId}: ${e.message}`));
    throw err;
  }
}
