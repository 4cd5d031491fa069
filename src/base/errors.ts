/**
 * The one exit-code table. The README documents it; scripts rely on it.
 * 125–127 stay free (shells use them) and 128+n means "killed by signal n".
 */
export const EXIT = {
  ok: 0,
  /** An unexpected error: a bug in faasctl. */
  bug: 1,
  /** A bad flag, argument, name or input document. */
  usage: 2,
  /** The thing named does not exist, or already exists (conflict). */
  notFound: 3,
  /** The command needs an interactive terminal, or a flag that answers its question. */
  needsTty: 4,
  /** The Docker engine or PostgreSQL cannot be reached. */
  connection: 5,
  /** The user's function failed; its own error is in the output. */
  functionFailed: 6,
  /** Not logged in, wrong password or an expired session. */
  auth: 7,
  /** The cluster could not run the function (task rejected, node lost, runtime image missing). */
  platform: 8,
  /** A concurrency limit is reached and --no-queue said not to wait. */
  busy: 9,
  /** Not allowed: the token does not cover this function or verb, or the context holds only an API token. */
  forbidden: 10,
  /** A wait or an invocation ran past its timeout. */
  timeout: 124,
  /** Interrupted by Ctrl-C or a cancelled prompt. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ErrorOptions {
  /** A stable, machine-readable code, e.g. `not_found`. */
  code?: string;
  exitCode?: ExitCode;
  /** One line telling the user how to fix it. */
  hint?: string;
  /** Lines shown under the message, e.g. the source line and a caret under a syntax error. */
  detail?: string;
  cause?: unknown;
}

/** Every error that faasctl means to show to a user. Anything else is a bug. */
export class FaasctlError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly detail?: string;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'error';
    this.exitCode = options.exitCode ?? EXIT.bug;
    this.hint = options.hint;
    this.detail = options.detail;
  }
}

type SubclassOptions = Omit<ErrorOptions, 'exitCode'>;

function subclass(defaultCode: string, exitCode: ExitCode) {
  return class extends FaasctlError {
    constructor(message: string, options: SubclassOptions = {}) {
      super(message, { code: defaultCode, ...options, exitCode });
    }
  };
}

export class UsageError extends subclass('usage', EXIT.usage) {}
export class NotFoundError extends subclass('not_found', EXIT.notFound) {}
export class ConflictError extends subclass('conflict', EXIT.notFound) {}
export class NonInteractiveError extends subclass('needs_tty', EXIT.needsTty) {}
export class ConnectionError extends subclass('connection', EXIT.connection) {}
export class FunctionFailedError extends subclass('function_failed', EXIT.functionFailed) {}
export class AuthError extends subclass('auth', EXIT.auth) {}
export class PlatformError extends subclass('platform', EXIT.platform) {}
export class BusyError extends subclass('busy', EXIT.busy) {}
export class ForbiddenError extends subclass('forbidden', EXIT.forbidden) {}
export class TimeoutError extends subclass('timeout', EXIT.timeout) {}
export class CancelledError extends subclass('interrupted', EXIT.interrupted) {}

/**
 * The command already said what went wrong (a JSON document, its failed checks, a bulk summary)
 * and has only its exit code left to give: main() prints nothing more. With the errors above, the
 * one way a command ends with a non-zero code.
 */
export class AlreadyReported extends FaasctlError {
  constructor(exitCode: ExitCode) {
    super(`already reported (exit ${exitCode})`, { code: 'already_reported', exitCode });
  }
}

export function isFaasctlError(err: unknown): err is FaasctlError {
  return err instanceof FaasctlError;
}
