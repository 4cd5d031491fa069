import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, type CliResult } from '../helpers/cli.js';
import { NONE, settledLeftovers } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { tempDir } from '../helpers/temp.js';

/** The test bed's dockerd TLS listener (scripts/testbed.sh): its own CA, server and client certificates. */
const TLS_DIR = process.env.FAASCTL_TESTBED_TLS_DIR ?? '/var/lib/faasctl-testbed/tls';
const TLS_HOST = `tcp://127.0.0.1:${process.env.FAASCTL_TESTBED_TLS_PORT ?? 2376}`;

/**
 * tcp:// with verified TLS through the built binary, against the real dockerd's TLS listener:
 * deploy, invoke, --async and warm give what the unix socket gives; a wrong CA, a missing
 * client certificate and a refused port fail with one line and exit 5, leaving nothing behind.
 */
describe('tcp:// with TLS through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  let overTls: Record<string, string | undefined>;
  const dir = tempDir('faasctl-tls-');
  const unix = (args: string[], input?: string) => runCli(args, { env, input });
  const tls = (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, { env: { ...overTls, ...extra } });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const mask = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>');

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    overTls = { ...env, FAASCTL_HOST: TLS_HOST, DOCKER_CERT_PATH: TLS_DIR };
    ok(await runCli(['up'], { env: overTls, timeoutMs: 300_000 }));
    ok(await unix(['user', 'create', 'tls-user', '--password-stdin'], 'tls-user-pass'));
    ok(await unix(['login', 'tls-user', '--password-stdin'], 'tls-user-pass'));
  }, 300_000);
  afterEach(async () => {
    expect(await settledLeftovers(db.url)).toEqual(NONE);
  });
  afterAll(async () => {
    await unix(['user', 'delete', '--force', '--yes']).catch(() => {});
    await unix(['gc']).catch(() => {});
    await db?.drop();
  });

  it('deploys, invokes (sync, --async, warm) over TLS with what the unix socket gives', async () => {
    const code = join(dir, 'add.py');
    writeFileSync(code, 'def main(data):\n    print("adding", len(data))\n    return {"sum": sum(data)}\n');
    ok(await tls(['fn', 'deploy', code]));
    const overUnix = await unix(['fn', 'invoke', 'add', '--data', '[1, 2, 3.5]']);
    const overTcp = await tls(['fn', 'invoke', 'add', '--data', '[1, 2, 3.5]']);
    expect([overTcp.code, overTcp.stdout, mask(overTcp.stderr)]).toEqual([overUnix.code, overUnix.stdout, mask(overUnix.stderr)]);
    expect(JSON.parse(overTcp.stdout)).toEqual({ sum: 6.5 });

    const id = ok(await tls(['fn', 'invoke', 'add', '--data', '[4]', '--async'])).stdout.trim();
    expect(JSON.parse(ok(await tls(['request', 'wait', id])).stdout)).toEqual({ sum: 4 });

    ok(await tls(['fn', 'scale', 'add', '1']));
    const warm = JSON.parse(ok(await tls(['--json', 'fn', 'invoke', 'add', '--data', '[5, 6]'])).stdout);
    expect(warm).toMatchObject({ mode: 'warm', result: { sum: 11 } });
    ok(await tls(['fn', 'delete', 'add']));
  }, 120_000);

  it('fails with one line and exit 5 on a wrong CA, a missing client certificate and a refused port', async () => {
    const wrongCa = tempDir('faasctl-wrong-ca-');
    const { copyFileSync } = await import('node:fs');
    copyFileSync(join(TLS_DIR, 'other-ca.pem'), join(wrongCa, 'ca.pem'));
    copyFileSync(join(TLS_DIR, 'cert.pem'), join(wrongCa, 'cert.pem'));
    copyFileSync(join(TLS_DIR, 'key.pem'), join(wrongCa, 'key.pem'));
    const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
      ['wrong CA', { DOCKER_CERT_PATH: wrongCa }, /TLS handshake with tcp:\/\/127\.0\.0\.1:\d+ failed/],
      ['no client certificate', { DOCKER_CERT_PATH: undefined }, /127\.0\.0\.1:\d+/],
      ['refused port', { FAASCTL_HOST: 'tcp://127.0.0.1:1' }, /127\.0\.0\.1:1/],
    ];
    for (const [what, extra, message] of cases) {
      const r = await tls(['gc', '--dry-run'], extra);
      expect(r.code, `${what}: ${r.stderr}`).toBe(5);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(lines, what).toHaveLength(1);
      expect(lines[0], what).toMatch(message);
      expect(r.stderr, what).not.toMatch(/\n\s+at /); // no stack trace without --debug
    }
  }, 60_000);
});
