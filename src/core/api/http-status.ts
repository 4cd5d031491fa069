import { EXIT, type ExitCode } from '../../base/errors.js';

/**
 * The HTTP status of a CLI outcome (README "The HTTP API"): the same exit codes, so a client
 * that knows one knows the other. The exact exit code also travels in `X-Faasctl-Exit-Code`
 * and in the error document, so two codes sharing a status stay apart.
 */
const BY_EXIT: Record<number, number> = {
  [EXIT.ok]: 200,
  [EXIT.bug]: 500,
  [EXIT.usage]: 400,
  [EXIT.notFound]: 404,
  [EXIT.needsTty]: 400,
  [EXIT.connection]: 503,
  // As OpenWhisk's blocking invoke: the function ran and raised ("application error").
  [EXIT.functionFailed]: 502,
  [EXIT.auth]: 401,
  [EXIT.platform]: 500,
  [EXIT.busy]: 429,
  [EXIT.forbidden]: 403,
  [EXIT.timeout]: 504,
  [EXIT.interrupted]: 503,
};

export function httpStatus(exitCode: ExitCode, code?: string): number {
  if (code === 'conflict' || code === 'idempotency_conflict') return 409;
  if (code === 'body_too_large') return 413;
  return BY_EXIT[exitCode] ?? 500;
}

/** A client's exit code from a response without `X-Faasctl-Exit-Code` (a proxy's own error page). */
export function exitFromStatus(status: number): ExitCode {
  if (status < 400) return EXIT.ok;
  const byStatus: Record<number, ExitCode> = {
    400: EXIT.usage,
    401: EXIT.auth,
    403: EXIT.forbidden,
    404: EXIT.notFound,
    409: EXIT.notFound,
    413: EXIT.usage,
    429: EXIT.busy,
    502: EXIT.functionFailed,
    504: EXIT.timeout,
  };
  return byStatus[status] ?? (status >= 500 ? EXIT.connection : EXIT.bug);
}
