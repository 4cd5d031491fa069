import { createHash } from 'node:crypto';

/** The database keeps only this digest of a session token, never the token. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
