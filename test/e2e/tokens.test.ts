import { createHmac, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliResult, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
/** The test bed's CA and its server certificate for 127.0.0.1 (scripts/testbed.sh). */
const TLS_DIR = process.env.FAASCTL_TESTBED_TLS_DIR ?? '/var/lib/faasctl-testbed/tls';
const CA = `${TLS_DIR}/ca.pem`;

const ECHO = `def main(args):
    return {"echo": args}
`;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { code: string; message: string; exitCode: number } } & Record<string, unknown>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Invoke tokens and the dispatcher's HTTP API (issue 25), through the built binary and a real
 * `up --dispatcher --api-port` service serving TLS with the test bed's CA.
 */
describe('tokens and the HTTP API', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  let port: number;
  let base: string;
  const { file } = scratchDir('faasctl-tokens-');
  const cli = (args: string[], input?: string, e = env) => runCli(args, { env: e, input, timeoutMs: 180_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const json = async (args: string[], input?: string) => JSON.parse(ok(await cli(['--json', ...args], input)).stdout);
  const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => query<T>(db.url, sql, params);
  const http = (method: string, path: string, o: { token?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, { method, ca: readFileSync(CA), headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.headers ?? {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      });
      req.on('error', reject);
      req.end(o.body);
    });
  const token = async (args: string[]) => (await json(['token', 'create', ...args])) as { token: string; id: string; name: string };
  const serviceLogs = async () => {
    const installation = (await rows<{ value: string }>(`SELECT value FROM faasctl_meta WHERE key = 'installation_id'`))[0]!.value;
    const [svc] = await docker.listServices({ filters: JSON.stringify({ label: [`io.faasctl.installation=${installation}`, 'io.faasctl.component=dispatcher'] }) } as object);
    const buf = (await docker.getService(svc!.ID).logs({ stdout: true, stderr: true, follow: false } as object)) as unknown as Buffer;
    return buf.toString('latin1');
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    port = await freePort();
    base = `https://127.0.0.1:${port}`;
    const up = await runCli(['up', '--dispatcher', '--api-port', String(port), '--api-tls-cert', `${TLS_DIR}/server-cert.pem`, '--api-tls-key', `${TLS_DIR}/server-key.pem`], {
      env,
      timeoutMs: 300_000,
    });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'tok-user', '--password-stdin'], 'tok-user-pass'));
    ok(await cli(['login', 'tok-user', '--password-stdin'], 'tok-user-pass'));
    ok(await cli(['fn', 'deploy', file('echo.py', ECHO)]));
    ok(await cli(['fn', 'deploy', file('other.py', ECHO)]));
    await waitFor('the API to listen', async () => (await http('GET', '/v1/health').catch(() => ({ status: 0 }))).status === 200, 120_000);
  }, 400_000);
  cleansUpAfterEach(() => ({ db, env }));
  afterAll(async () => {
    const down = await runCli(['up', '--no-dispatcher'], { env, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
  }, 180_000);

  it('invokes its function over HTTP and through a token-only context, and is refused elsewhere', async () => {
    const made = ok(await cli(['--json', '--debug', 'token', 'create', '--fn', 'echo', '--name', 'ci-echo']));
    const t = JSON.parse(made.stdout) as { token: string; id: string };
    expect(t.token).toMatch(/^fct_[0-9a-f]{12}_/);
    // Printed once on stdout; never in --debug (SQL is logged without its parameters).
    expect(made.stderr).not.toContain(t.token.split('_')[2]);
    expect(made.stderr).not.toContain(createHash('sha256').update(t.token).digest('hex'));
    const called = await http('POST', '/v1/functions/echo/invoke', { token: t.token, body: '{"n": 1}' });
    expect(called.status).toBe(200);
    expect(called.body).toMatchObject({ status: 'success', result: { echo: { n: 1 } } });
    const requestId = called.body.requestId as string;
    const queued = await http('POST', '/v1/functions/echo/invoke?async=1', { token: t.token, body: '{"n": 2}' });
    expect(queued.status).toBe(202);
    expect((await http('GET', `/v1/requests/${queued.body.requestId}/wait`, { token: t.token })).body).toMatchObject({ status: 'success', result: { echo: { n: 2 } } });

    // A context with no engine and no database at all: only the API and the token.
    const ciEnv = isolatedEnv({ DOCKER_HOST: undefined, DATABASE_URL: undefined, FAASCTL_DATABASE_URL: undefined, FAASCTL_HOST: undefined });
    ok(await cli(['context', 'add', 'ci', '--api', base, '--token-stdin', '--ca', CA, '--use'], t.token, ciEnv));
    const described = ok(await cli(['--json', 'context', 'show'], undefined, ciEnv)).stdout + ok(await cli(['--json', 'context', 'ls'], undefined, ciEnv)).stdout;
    expect(described).toContain(base);
    expect(described).not.toContain(t.token.split('_')[2]);
    const viaCtx = await cli(['--json', '--debug', 'fn', 'invoke', 'echo', '--data', '{"n": 3}'], undefined, ciEnv);
    expect(viaCtx.code, viaCtx.stderr).toBe(0);
    expect(JSON.parse(viaCtx.stdout)).toMatchObject({ status: 'success', result: { echo: { n: 3 } } });
    expect(viaCtx.stderr + viaCtx.stdout).not.toContain(t.token.split('_')[2]);
    const shown = JSON.parse(ok(await cli(['--json', 'request', 'show', requestId], undefined, ciEnv)).stdout);
    expect(shown).toMatchObject({ id: requestId, tokenId: t.id, tokenName: 'ci-echo', via: 'api' });
    const listed = JSON.parse(ok(await cli(['--json', 'request', 'list'], undefined, ciEnv)).stdout);
    expect(listed.length).toBeGreaterThanOrEqual(3);
    expect(listed.every((r: { functionName: string }) => r.functionName === 'echo')).toBe(true);
    const async = ok(await cli(['fn', 'invoke', 'echo', '--async', '--data', '{"n": 4}'], undefined, ciEnv)).stdout.trim();
    expect(JSON.parse(ok(await cli(['--json', 'request', 'wait', async], undefined, ciEnv)).stdout)).toMatchObject({ result: { echo: { n: 4 } } });
    const logs = JSON.parse(ok(await cli(['--json', 'logs', 'echo', '--tail', '2'], undefined, ciEnv)).stdout);
    expect(logs).toHaveLength(2);

    // Another function: 403, exit 10.
    const other = await http('POST', '/v1/functions/other/invoke', { token: t.token, body: '{}' });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: 'token_scope', exitCode: 10 });
    const otherCli = await cli(['fn', 'invoke', 'other', '--data', '{}'], undefined, ciEnv);
    expect(otherCli.code).toBe(10);
    expect(otherCli.stderr).toContain('may not invoke function "other"');
    // Deploy needs what a token-only context does not hold: exit 10, naming it.
    const deploy = await cli(['fn', 'deploy', file('x.py', ECHO)], undefined, ciEnv);
    expect(deploy.code).toBe(10);
    expect(deploy.stderr).toMatch(/fn deploy needs .* context "ci" holds only an API token/);
    expect(deploy.stderr.trim().split('\n')[0]).toMatch(/^error: /);

    // Revoked: 401, exit 7, its own code.
    ok(await cli(['token', 'revoke', 'ci-echo']));
    const revoked = await http('POST', '/v1/functions/echo/invoke', { token: t.token, body: '{}' });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error).toMatchObject({ code: 'token_revoked', exitCode: 7 });
    const revokedCli = await cli(['fn', 'invoke', 'echo', '--data', '{}'], undefined, ciEnv);
    expect(revokedCli.code).toBe(7);
    expect(revokedCli.stderr).toContain('token "ci-echo" was revoked');
    // Unknown: 401 token_invalid.
    expect((await http('GET', `/v1/requests/${requestId}`, { token: `${t.token.slice(0, -4)}AAAA` })).body.error).toMatchObject({ code: 'token_invalid' });
    expect((await http('GET', `/v1/requests/${requestId}`)).status).toBe(401);

    // Nothing secret in the request log or the service's log.
    const digest = createHash('sha256').update(t.token).digest('hex');
    const dump = (await rows<{ t: string }>('SELECT to_jsonb(r)::text AS t FROM requests r')).map((r) => r.t).join('\n');
    const logText = await serviceLogs();
    for (const secret of [t.token, t.token.split('_')[2]!, digest]) {
      expect(dump).not.toContain(secret);
      expect(logText).not.toContain(secret);
    }
    expect(logText).toContain('token:ci-echo');
  });

  it('refuses an expired token, with its own code', async () => {
    const t = await token(['--fn', 'echo', '--name', 'short', '--expires', '1s']);
    await waitFor('the token to expire', async () => (await http('GET', '/v1/requests', { token: t.token })).status === 401, 30_000);
    const r = await http('POST', '/v1/functions/echo/invoke', { token: t.token, body: '{}' });
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ code: 'token_expired', exitCode: 7 });
    expect(r.body.error?.message).toContain('token "short" expired at');
    const listed = await json(['token', 'list']);
    expect(listed.find((x: { name: string }) => x.name === 'short')).toMatchObject({ state: 'expired' });
    expect(JSON.stringify(listed)).not.toContain(t.token);
  });

  it('refuses an oversized body (413) and one token’s flood (429) without harming another token', async () => {
    const a = await token(['--fn', 'echo', '--name', 'flood']);
    const b = await token(['--fn', 'echo', '--name', 'calm']);
    const big = await http('POST', '/v1/functions/echo/invoke', { token: a.token, body: Buffer.alloc(2 * 1024 * 1024, 0x20) });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'body_too_large', exitCode: 2 });
    const flood = await Promise.all(Array.from({ length: 120 }, () => http('GET', '/v1/requests?limit=1', { token: a.token })));
    const limited = flood.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited[0]!.body.error).toMatchObject({ code: 'rate_limited', exitCode: 9 });
    const calm = await http('POST', '/v1/functions/echo/invoke', { token: b.token, body: '{"calm": true}' });
    expect(calm.status).toBe(200);
    expect(calm.body).toMatchObject({ result: { echo: { calm: true } } });
  });

  it('runs a signed webhook and refuses a bad signature', async () => {
    const secret = 'a-webhook-secret-0123456789abcdef';
    ok(await cli(['fn', 'update', 'echo', '--webhook-secret-stdin'], secret));
    const body = Buffer.from('{"event": "push"}');
    const sign = (key: string) => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
    const good = await http('POST', '/v1/hooks/tok-user/echo', { body, headers: { 'x-faasctl-signature': sign(secret) } });
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    expect(good.body).toMatchObject({ result: { echo: { event: 'push' } } });
    const row = await json(['request', 'show', good.body.requestId as string]);
    expect(row).toMatchObject({ via: 'webhook', tokenId: null });
    const bad = await http('POST', '/v1/hooks/tok-user/echo', { body, headers: { 'x-faasctl-signature': sign('not-the-secret-0123456789') } });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toMatchObject({ code: 'bad_signature' });
    expect((await http('POST', '/v1/hooks/tok-user/echo', { body })).status).toBe(401);
    // The secret is stored sealed: neither rows nor fn show nor the service log carry it.
    const shown = ok(await cli(['--json', '--debug', 'fn', 'show', 'echo']));
    const dump = (await rows<{ t: string }>('SELECT to_jsonb(f)::text AS t FROM functions f')).map((r) => r.t).join('\n');
    for (const text of [shown.stdout, shown.stderr, dump, await serviceLogs()]) expect(text).not.toContain(secret);
  });
});
