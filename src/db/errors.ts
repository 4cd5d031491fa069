import { ConflictError, ConnectionError, FaasctlError } from '../base/errors.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

interface PgError extends Error {
  code?: string;
  constraint?: string;
  detail?: string;
}

/** Maps node-postgres errors to faasctl errors. Never includes the URL: it may hold a password. */
export function mapPgError(err: unknown, where: string): Error {
  if (err instanceof FaasctlError) return err;
  const e = err as PgError;
  const hint = 'start PostgreSQL or fix the database URL (faasctl context show; faasctl doctor)';
  if (e.code && UNREACHABLE.has(e.code)) return new ConnectionError(`cannot reach PostgreSQL at ${where} (${e.code})`, { cause: err, hint });
  if (e.message && /Connection terminated|timeout expired|terminating connection/i.test(e.message)) {
    return new ConnectionError(`lost the connection to PostgreSQL at ${where}`, { cause: err, hint });
  }
  // 28xxx: invalid authorization; 3D000: no such database; 57P03: starting up.
  if (e.code?.startsWith('28')) return new ConnectionError(`PostgreSQL at ${where} refused the login: ${e.message}`, { cause: err, hint: 'check the user and password of the database URL' });
  if (e.code === '3D000' || e.code === '57P03') return new ConnectionError(`PostgreSQL at ${where}: ${e.message}`, { cause: err, hint });
  if (e.code === '23505') return new ConflictError(e.detail ?? e.message, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
