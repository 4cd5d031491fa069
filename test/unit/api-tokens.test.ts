import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/base/errors.js';
import { exitFromStatus, httpStatus } from '../../src/core/api/http-status.js';
import { RateLimiter } from '../../src/core/api/rate-limit.js';
import { checkScope, type Grant, mayRead } from '../../src/core/api/scope.js';
import { newTokenValue, sameDigest, tokenPrefix, tokenSha256 } from '../../src/core/api/token-value.js';
import { signBody, signatureMatches } from '../../src/core/api/webhook-signature.js';

const grant: Grant = { id: 'g', name: 'ci', userId: 'u', userName: 'alice', scope: 'invoke', functions: ['sum'] };

describe('token values', () => {
  it('carry a public prefix and 256 random bits; only the digest is compared', () => {
    const { value, prefix } = newTokenValue(randomBytes);
    expect(value).toMatch(/^fct_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(tokenPrefix(value)).toBe(prefix);
    expect(tokenPrefix('fct_short_x')).toBeUndefined();
    expect(sameDigest(tokenSha256(value), tokenSha256(value))).toBe(true);
    expect(sameDigest(tokenSha256(value), tokenSha256(`${value}x`))).toBe(false);
    expect(sameDigest('', '')).toBe(false);
  });
});

describe('scope', () => {
  it('lets an invoke token invoke and read its functions only', () => {
    expect(() => checkScope(grant, 'invoke', 'sum')).not.toThrow();
    expect(() => checkScope(grant, 'read', 'sum')).not.toThrow();
    expect(() => checkScope(grant, 'invoke', 'other')).toThrow(/may not invoke function "other"/);
    expect(mayRead(grant, 'sum')).toBe(true);
    expect(mayRead(grant, 'other')).toBe(false);
    expect(mayRead(grant, null)).toBe(false);
  });
  it('lets a read token read but not invoke, with exit 10', () => {
    const read = { ...grant, scope: 'read' as const };
    expect(() => checkScope(read, 'read', 'sum')).not.toThrow();
    try {
      checkScope(read, 'invoke', 'sum');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'token_scope', exitCode: EXIT.forbidden });
    }
  });
});

describe('webhook signatures', () => {
  const body = Buffer.from('{"a":1}');
  it('verify the HMAC-SHA256 of the raw body', () => {
    const sig = signBody('s3cret-s3cret-s3cret', body);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signatureMatches('s3cret-s3cret-s3cret', body, sig)).toBe(true);
    expect(signatureMatches('s3cret-s3cret-s3cret', body, sig.toUpperCase().replace('SHA256', 'sha256'))).toBe(true);
  });
  it('refuse another secret, another body, a missing or malformed header', () => {
    const sig = signBody('s3cret-s3cret-s3cret', body);
    expect(signatureMatches('other-secret-000000', body, sig)).toBe(false);
    expect(signatureMatches('s3cret-s3cret-s3cret', Buffer.from('{"a":2}'), sig)).toBe(false);
    expect(signatureMatches('s3cret-s3cret-s3cret', body, undefined)).toBe(false);
    expect(signatureMatches('s3cret-s3cret-s3cret', body, 'sha1=abc')).toBe(false);
  });
});

describe('HTTP statuses', () => {
  it('map from exit codes and back', () => {
    const table: Array<[number, number, string?]> = [
      [EXIT.ok, 200],
      [EXIT.usage, 400],
      [EXIT.usage, 413, 'body_too_large'],
      [EXIT.notFound, 404],
      [EXIT.notFound, 409, 'conflict'],
      [EXIT.connection, 503],
      [EXIT.functionFailed, 502],
      [EXIT.auth, 401],
      [EXIT.platform, 500],
      [EXIT.busy, 429],
      [EXIT.forbidden, 403],
      [EXIT.timeout, 504],
    ];
    for (const [exit, status, code] of table) expect(httpStatus(exit as 0, code)).toBe(status);
    expect(exitFromStatus(401)).toBe(EXIT.auth);
    expect(exitFromStatus(403)).toBe(EXIT.forbidden);
    expect(exitFromStatus(429)).toBe(EXIT.busy);
    expect(exitFromStatus(504)).toBe(EXIT.timeout);
    expect(exitFromStatus(200)).toBe(EXIT.ok);
  });
});

describe('the rate limiter', () => {
  it('allows a burst, then refuses with a retry time, and refills with the clock', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 3, now: () => now });
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 500 });
    now += 500;
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
  });
  it('keeps one bucket per key: one flood does not touch another', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, now: () => 0 });
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true);
  });
  it('drops full buckets past its key limit', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, now: () => now, maxKeys: 2 });
    limiter.take('a');
    limiter.take('b');
    now += 5000;
    expect(limiter.take('c').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(true);
  });
});
