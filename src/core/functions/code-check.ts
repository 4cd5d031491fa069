import type { FunctionFormat } from '../../db/functions-repo.js';
import type { SwarmClient } from '../../swarm/client.js';
import { checkContainerSpec } from '../../swarm/sandbox.js';
import { PlatformError, UsageError } from '../../base/errors.js';

export interface CheckPassed {
  format: FunctionFormat;
  entry: string;
  warnings: Array<{ message: string; line?: number }>;
}

interface CheckError {
  kind: 'syntax' | 'entry' | 'signature';
  type?: string;
  message: string;
  line?: number | null;
  col?: number | null;
  text?: string | null;
  caret?: string | null;
}

/**
 * CPython's own compiler, in the runtime image, so a deploy accepts exactly what the
 * invocation's interpreter will run. The code is compiled, never executed.
 */
export async function checkCode(
  swarm: SwarmClient,
  image: string,
  code: string,
  entry: string | undefined,
  filename: string,
  owner: { userId: string; installation: string },
  flavor?: FunctionFormat,
): Promise<CheckPassed> {
  const run = await swarm.runContainer(checkContainerSpec(image, code, { entry, flavor }, filename, owner.userId, owner.installation));
  const line = run.stdout.trim().split('\n').pop() ?? '';
  let verdict: { ok: boolean; format?: FunctionFormat; entry?: string; warnings?: CheckPassed['warnings']; error?: CheckError };
  try {
    verdict = JSON.parse(line);
  } catch {
    const why = run.timedOut ? 'timed out' : `exited ${run.exitCode}`;
    throw new PlatformError(`the syntax check in ${image} ${why} without a verdict`, {
      code: 'check_failed',
      hint: 'run faasctl doctor; faasctl up rebuilds the runtime image',
      detail: run.stderr.trim().split('\n').slice(-5).join('\n') || undefined,
    });
  }
  if (verdict.ok) return { format: verdict.format ?? 'main', entry: verdict.entry ?? entry ?? 'main', warnings: verdict.warnings ?? [] };
  throw checkFailure(verdict.error!, filename);
}

/** `file:line:col: SyntaxError: message`, then the line and a caret, like a compiler. */
export function checkFailure(e: CheckError, filename: string): UsageError {
  if (e.kind === 'entry') {
    return new UsageError(e.message, { code: 'entry_missing', hint: 'name the entry function with --entry NAME, or define main(data)' });
  }
  if (e.kind === 'signature') {
    return new UsageError(e.message, { code: 'signature_mismatch', hint: 'change the parameters, or name the flavour with --flavor main|lambda|openfaas|madhat' });
  }
  const where = [filename, e.line, e.line && e.col ? e.col : undefined].filter((p) => p !== undefined && p !== null).join(':');
  const detail = e.text != null ? [`    ${e.text}`, e.caret ? `    ${e.caret}` : undefined].filter(Boolean).join('\n') : undefined;
  return new UsageError(`${where}: ${e.type ?? 'SyntaxError'}: ${e.message}`, {
    code: 'syntax_error',
    hint: 'fix the code and run the command again; nothing was stored or run',
    detail,
  });
}
