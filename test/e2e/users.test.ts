import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/test-db.js';

describe('users through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url });
    const up = await runCli(['up'], { env: { ...env, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' }, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
  });
  afterAll(async () => db?.drop());

  it('creates a user with the password on stdin and logs in, documented JSON shapes', async () => {
    const created = await runCli(['--json', 'user', 'create', 'e2e-user', '--password-stdin'], { env, input: 's3cret-pass\n' });
    expect(created.code, created.stderr).toBe(0);
    expect(Object.keys(JSON.parse(created.stdout)).sort()).toEqual(['createdAt', 'id', 'name', 'requestId']);
    expect(created.stderr).toBe('');

    const login = await runCli(['--json', 'login', 'e2e-user', '--password-stdin'], { env, input: 's3cret-pass' });
    expect(login.code, login.stderr).toBe(0);
    expect(JSON.parse(login.stdout)).toMatchObject({ user: { name: 'e2e-user' }, context: 'default', expiresAt: expect.any(String) });

    const list = await runCli(['request', 'list'], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^[0-9a-f-]{36}\tuser\.create\tsuccess\te2e-user\t\d+ ms\t\d{4}-\d\d-\d\dT/);
    expect(list.stdout).not.toMatch(/\x1b\[/);

    const out = await runCli(['logout'], { env });
    expect(out.code).toBe(0);
    const who = await runCli(['whoami'], { env });
    expect(who.code).toBe(7);
    expect(who.stderr).toContain('hint: run faasctl login USER');
  });

  it('refuses to wait for a prompt without a terminal and names the flag', async () => {
    const r = await runCli(['user', 'create', 'e2e-nopw'], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('--password-stdin');
  });
});
