import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * What an invoke token looks like: `fct_<prefix>_<secret>`. The prefix (12 hex characters) is
 * public: the database finds the token by it and `token list` shows it. The secret is 256
 * random bits. The database keeps only the SHA-256 of the whole value; a random 256-bit value
 * needs no slow hash (nothing to guess), unlike a password.
 */
const SHAPE = /^fct_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function newTokenValue(random: (bytes: number) => Buffer): { value: string; prefix: string } {
  const prefix = random(6).toString('hex');
  return { value: `fct_${prefix}_${random(32).toString('base64url')}`, prefix };
}

/** The prefix of a well-formed token, else undefined (a mistyped or foreign value). */
export function tokenPrefix(value: string): string | undefined {
  return SHAPE.exec(value)?.[1];
}

export function tokenSha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant time in the digests' length, so a wrong token's timing tells nothing of the right one. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
