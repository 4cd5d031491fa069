import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, type CliResult, scratchDir } from '../helpers/cli.js';
import { NONE, settledLeftovers } from '../helpers/leftovers.js';
import { sshdLog, SSH_DIR, SSH_HOST, SSH_KNOWN_HOSTS, SSH_PORT, SSH_WRONG_KEY, sshEnv, sshSessions } from '../helpers/ssh.js';
import { createTestDatabase } from '../helpers/test-db.js';

/**
 * ssh:// through the built binary against the test bed's real sshd (127.0.0.1, its own host
 * and user keys) in front of the real dockerd: every command gives what it gives over the
 * unix socket; the database and warm replicas can go through the same connection; bad keys,
 * unknown or changed host keys and a refused port fail with one line and exit 5. After every
 * test nothing is left on the engine, and sshd serves no session of ours.
 */
describe('ssh:// transport through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  let overSsh: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-ssh-');
  const unix = (args: string[], input?: string) => runCli(args, { env, input });
  const ssh = (args: string[], input?: string, extra: Record<string, string | undefined> = {}) => runCli(args, { env: { ...overSsh, ...extra }, input });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const pgPort = () => Number(new URL(db.url).port);

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    overSsh = { ...env, ...sshEnv() };
    // `up` over ssh: engine checks, swarm, runtime image, schema, all through the tunnel.
    const up = await runCli(['up'], { env: overSsh, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await unix(['user', 'create', 'ssh-user', '--password-stdin'], 'ssh-user-pass'));
    ok(await unix(['login', 'ssh-user', '--password-stdin'], 'ssh-user-pass'));
  });
  afterEach(async () => {
    expect(await settledLeftovers(db.url)).toEqual(NONE);
    await expect.poll(sshSessions, { timeout: 5000 }).toBe(0);
  });
  afterAll(async () => {
    await unix(['user', 'delete', '--force', '--yes']).catch(() => {});
    await unix(['gc']).catch(() => {});
    await db?.drop();
  });

  it('deploys and invokes over ssh:// with the same output, result and exit code as the unix socket', async () => {
    ok(await ssh(['fn', 'deploy', file('add.py', 'def main(data):\n    print("adding", len(data))\n    return {"sum": sum(data)}\n')]));
    ok(await ssh(['fn', 'deploy', file('boom.py', 'def main(data):\n    raise ValueError("no")\n')]));
    for (const [name, data] of [
      ['add', '[1, 2, 3.5]'],
      ['boom', '1'],
    ] as const) {
      const a = await unix(['fn', 'invoke', name, '--data', data]);
      const mark = sshdLog();
      const b = await ssh(['--db-via-ssh', 'fn', 'invoke', name, '--data', data]);
      // One SSH login for the whole command: every Docker call and the database share it.
      expect(mark.logins()).toBe(1);
      expect(b.code, b.stderr).toBe(a.code);
      expect(b.stdout).toBe(a.stdout);
      const ids = (t: string) => t.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'ID');
      expect(ids(b.stderr)).toBe(ids(a.stderr));
    }
    const doctor = JSON.parse(ok(await ssh(['--json', 'doctor'])).stdout);
    expect(JSON.stringify(doctor)).toContain(SSH_HOST);
  });

  it('--async over ssh:// returns the id; request wait over ssh:// gives the result', async () => {
    ok(await ssh(['fn', 'deploy', file('later.py', 'import time\ndef main(data):\n    print("working")\n    time.sleep(1)\n    return {"got": data}\n')]));
    const id = ok(await ssh(['fn', 'invoke', 'later', '--data', '41', '--async'])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const w = ok(await ssh(['request', 'wait', id]));
    expect(JSON.parse(w.stdout)).toEqual({ got: 41 });
    expect(w.stderr).toContain('working');
    expect(JSON.parse(ok(await unix(['request', 'wait', id])).stdout)).toEqual({ got: 41 });
  });

  it('reaches PostgreSQL through the tunnel with --db-via-ssh (sshd forwards to the database port)', async () => {
    ok(await unix(['fn', 'deploy', file('echo.py', 'def main(data):\n    return data\n')]));
    const mark = sshdLog();
    const r = ok(await ssh(['--db-via-ssh', 'fn', 'invoke', 'echo', '--data', '{"x": 1}']));
    expect(JSON.parse(r.stdout)).toEqual({ x: 1 });
    expect(mark.targets()).toContain(`127.0.0.1:${pgPort()}`);
    // A database-only command fails like the Docker API does when SSH refuses us: it really goes through SSH.
    const refused = await ssh(['fn', 'list'], undefined, { FAASCTL_DB_VIA_SSH: '1', FAASCTL_SSH_KEY: SSH_WRONG_KEY });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^error: ssh:\/\/root@127\.0\.0\.1:\d+ refused the login/);
    expect(ok(await ssh(['fn', 'list'], undefined, { FAASCTL_SSH_KEY: SSH_WRONG_KEY })).stdout).toContain('echo');
  });

  it('invokes a warm function through the tunnel with the same answer as over the unix socket', async () => {
    ok(await ssh(['fn', 'deploy', file('hot.py', 'def main(data):\n    return {"twice": data * 2}\n'), '--warm', '1', '--workers', '1']));
    const mark = sshdLog();
    const b = JSON.parse(ok(await ssh(['--json', 'fn', 'invoke', 'hot', '--data', '21'])).stdout);
    const a = JSON.parse(ok(await unix(['--json', 'fn', 'invoke', 'hot', '--data', '21'])).stdout);
    expect(b).toMatchObject({ result: a.result, mode: 'warm' });
    expect(a).toMatchObject({ result: { twice: 42 }, mode: 'warm' });
    expect(mark.targets().length).toBeGreaterThan(0); // the replica's port, dialled by sshd
    ok(await ssh(['fn', 'scale', 'hot', '0']));
  });

  it('fails with one line and exit 5 on a refused key, an unknown or changed host key and a refused port', async () => {
    const hostKey = readFileSync(`${SSH_DIR}/ssh_host_ed25519_key.pub`, 'utf8').split(' ')[1];
    const fp = /SHA256:[A-Za-z0-9+/]{43}/;
    const wrongKey = await ssh(['fn', 'list'], undefined, { FAASCTL_DB_VIA_SSH: '1', FAASCTL_SSH_KEY: SSH_WRONG_KEY });
    expect([wrongKey.code, wrongKey.stderr.split('\n')[0]]).toEqual([5, `error: ${SSH_HOST} refused the login: tried ${SSH_WRONG_KEY}`]);

    const unknown = await ssh(['gc'], undefined, { FAASCTL_SSH_KNOWN_HOSTS: file('empty_known_hosts', '') });
    expect(unknown.code).toBe(5);
    expect(unknown.stderr.split('\n')[0]).toMatch(new RegExp(`^error: host key of \\[127\\.0\\.0\\.1\\]:${SSH_PORT} is unknown: ssh-ed25519 ${fp.source} is not in `));
    expect(unknown.stderr).toContain('--ssh-insecure-ignore-host-key');

    const other = readFileSync(`${SSH_WRONG_KEY}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const changed = await ssh(['gc'], undefined, { FAASCTL_SSH_KNOWN_HOSTS: file('changed_known_hosts', `[127.0.0.1]:${SSH_PORT} ${other}\n`) });
    expect(changed.code).toBe(5);
    expect(changed.stderr.split('\n')[0]).toMatch(/^error: host key of \S+ has CHANGED: the server sent ssh-ed25519 SHA256:\S+, \S+:1 says otherwise$/);
    // The opt-out flag accepts it; without the flag nothing ever trusts it.
    ok(await ssh(['--ssh-insecure-ignore-host-key', 'gc'], undefined, { FAASCTL_SSH_KNOWN_HOSTS: file('changed_known_hosts2', `[127.0.0.1]:${SSH_PORT} ${other}\n`) }));

    const refused = await ssh(['gc'], undefined, { FAASCTL_HOST: 'ssh://root@127.0.0.1:1' });
    expect([refused.code, refused.stderr.split('\n')[0]]).toEqual([5, 'error: cannot reach ssh://root@127.0.0.1:1 (ECONNREFUSED)']);
    const json = await ssh(['--json', 'gc'], undefined, { FAASCTL_HOST: 'ssh://root@127.0.0.1:1' });
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'connection', exitCode: 5 });
    expect(readFileSync(SSH_KNOWN_HOSTS, 'utf8')).toContain(hostKey); // the test bed's file is untouched
  });
});
