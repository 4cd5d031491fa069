import type { FunctionFormat } from '../../db/functions-repo.js';
import type { SwarmClient } from '../../swarm/client.js';
import { checkContainerSpec, type ImportCheck } from '../../swarm/sandbox.js';
import { CancelledError, PlatformError, UsageError } from '../../base/errors.js';

export interface CheckPassed {
  format: FunctionFormat;
  entry: string;
  warnings: Array<{ message: string; line?: number }>;
}

interface CheckError {
  kind: 'syntax' | 'entry' | 'signature' | 'import' | 'import_timeout' | 'import_crash';
  type?: string;
  message: string;
  line?: number | null;
  col?: number | null;
  text?: string | null;
  caret?: string | null;
  /** The import check's: the traceback from the user's first frame on, and a missing module's name. */
  traceback?: string | null;
  module?: string;
  /** The file of the code's directory the import failed in (relative to it), when not the entry module. */
  file?: string;
}

/** The import check's time limit: short, and never beyond the function's own timeout. */
export const IMPORT_CHECK_MS = 10_000;

export interface CheckOptions {
  /** Import the module and resolve the entry too (deploy, update), in this sandbox. */
  importCheck?: ImportCheck;
  /** Code shipped as a zip: the import check unpacks it and imports its module from there. */
  archive?: { bytes: Buffer; module: string };
  /** Ctrl-C: the check container is killed and removed, nothing is stored. */
  signal?: AbortSignal;
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
  options: CheckOptions = {},
): Promise<CheckPassed> {
  const spec = checkContainerSpec(image, code, { entry, flavor }, filename, owner.userId, owner.installation, options.importCheck, options.archive);
  const run = await swarm.runContainer({ ...spec, signal: options.signal });
  if (run.cancelled) throw new CancelledError('interrupted during the code check; nothing was stored', { hint: 'run the command again' });
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
  if (e.kind === 'import' || e.kind === 'import_timeout' || e.kind === 'import_crash') return importFailure(e, filename);
  const where = [filename, e.line, e.line && e.col ? e.col : undefined].filter((p) => p !== undefined && p !== null).join(':');
  const detail = e.text != null ? [`    ${e.text}`, e.caret ? `    ${e.caret}` : undefined].filter(Boolean).join('\n') : undefined;
  return new UsageError(`${where}: ${e.type ?? 'SyntaxError'}: ${e.message}`, {
    code: 'syntax_error',
    hint: 'fix the code and run the command again; nothing was stored or run',
    detail,
  });
}

const SKIP_HINT = '--no-import-check skips this check for a module that needs what only an invocation has (secrets, network)';

/** The import check's refusals: one line naming the cause, the user's own frames as detail. */
export function importFailure(e: CheckError, filename: string): UsageError {
  const where = e.line ? `${e.file ?? filename}:${e.line}` : filename;
  const detail = e.traceback?.trim() || undefined;
  if (e.module) {
    const pkg = e.module.split('.')[0];
    return new UsageError(`${where}: no module named '${e.module}'`, {
      code: 'module_missing',
      hint: `add the package that provides ${pkg} to requirements.txt beside the code (or --requirements FILE), or its Debian package to apt.txt (--apt); ${SKIP_HINT}`,
    });
  }
  if (e.kind === 'import_timeout') return new UsageError(`${filename}: ${e.message}`, { code: 'import_timeout', hint: `do less at import time; ${SKIP_HINT}`, detail });
  if (e.kind === 'import_crash') return new UsageError(`${filename}: ${e.message}`, { code: 'import_crashed', hint: `raise --memory if it ran out; ${SKIP_HINT}`, detail });
  return new UsageError(`${where}: the import raised ${e.type ?? 'an exception'}: ${e.message}`, { code: 'import_failed', hint: `fix the module-level code; ${SKIP_HINT}`, detail });
}
