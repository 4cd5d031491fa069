import { describe, expect, it } from 'vitest';
import { handleApiCall, type ApiDeps } from '../../src/core/api/routes.js';
import { RateLimiter } from '../../src/core/api/rate-limit.js';
import { tokenSha256 } from '../../src/core/api/token-value.js';

const VALUE = `fct_0123456789ab_${'A'.repeat(43)}`;
const NOW = new Date('2030-01-01T00:00:00Z');

/** Only what authentication and refusals reach: a call that gets further fails the test loudly. */
function deps(o: { revoked?: boolean; expired?: boolean; perSecond?: number } = {}) {
  const lines: string[] = [];
  const row = {
    id: 't1',
    userId: 'u1',
    userName: 'alice',
    name: 'ci',
    prefix: '0123456789ab',
    sha256: tokenSha256(VALUE),
    scope: 'invoke',
    functions: ['sum'],
    expiresAt: o.expired ? new Date(NOW.getTime() - 1) : new Date(NOW.getTime() + 60_000),
    revokedAt: o.revoked ? new Date(NOW.getTime() - 5) : null,
  };
  const store = { tokens: { byPrefix: async (p: string) => (p === row.prefix ? row : undefined), touch: async () => {} } };
  const d = {
    store,
    clock: { now: () => NOW },
    log: { debug: () => {} },
    limiter: new RateLimiter({ perSecond: o.perSecond ?? 100, burst: o.perSecond ?? 100, now: () => 0 }),
    access: (l: string) => lines.push(l),
  } as unknown as ApiDeps;
  return { d, lines };
}

const call = (method: string, path: string, bearer?: string) => ({ method, path, query: new URLSearchParams(), bearer, body: Buffer.alloc(0), signal: new AbortController().signal });

describe('the API routes', () => {
  it('answers health without a token', async () => {
    expect(await handleApiCall(deps().d, call('GET', '/v1/health'))).toMatchObject({ status: 200, body: { ok: true } });
  });
  it('refuses a missing, unknown, revoked or expired token with 401 and its own code', async () => {
    const code = async (d: ApiDeps, bearer?: string) => ((await handleApiCall(d, call('GET', '/v1/requests', bearer))).body as { error: { code: string } }).error.code;
    expect(await code(deps().d)).toBe('token_missing');
    expect(await code(deps().d, `${VALUE.slice(0, -1)}B`)).toBe('token_invalid');
    expect(await code(deps({ revoked: true }).d, VALUE)).toBe('token_revoked');
    expect(await code(deps({ expired: true }).d, VALUE)).toBe('token_expired');
    const a = await handleApiCall(deps().d, call('GET', '/v1/requests'));
    expect(a.status).toBe(401);
    expect(a.headers?.['x-faasctl-exit-code']).toBe('7');
  });
  it('refuses another function with 403 before looking it up', async () => {
    const a = await handleApiCall(deps().d, call('POST', '/v1/functions/other/invoke', VALUE));
    expect(a).toMatchObject({ status: 403, body: { error: { code: 'token_scope', exitCode: 10 } } });
  });
  it('has no route for deploy', async () => {
    expect(await handleApiCall(deps().d, call('POST', '/v1/functions/sum', VALUE))).toMatchObject({ status: 404, body: { error: { code: 'no_route' } } });
  });
  it('answers 429 with Retry-After past the token’s rate, and logs the label, never the token', async () => {
    const { d, lines } = deps({ perSecond: 1 });
    await handleApiCall(d, call('POST', '/v1/functions/other/invoke', VALUE));
    const a = await handleApiCall(d, call('POST', '/v1/functions/other/invoke', VALUE));
    expect(a.status).toBe(429);
    expect(a.headers?.['retry-after']).toBe('1');
    expect(lines.join('\n')).toContain('token:ci');
    expect(lines.join('\n')).not.toContain(VALUE.slice(18));
  });
});
