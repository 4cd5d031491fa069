import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { tempDir } from '../helpers/temp.js';

describe('the faasctl binary', () => {
  it('prints its version and help on stdout, exit 0', async () => {
    const version = await runCli(['--version']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await runCli(['doctor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Example:');
  });

  it('fails a bad command with exit 2, one error line and a hint on stderr, nothing on stdout', async () => {
    const r = await runCli(['fnord'], { env: isolatedEnv() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(["error: unknown command 'fnord'", 'hint: see faasctl --help, or faasctl COMMAND --help']);
  });

  it('puts a --json error on stdout as one document', async () => {
    const r = await runCli(['--json', 'context', 'use', 'nope'], { env: isolatedEnv() });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'not_found', message: 'context "nope" not found', hint: expect.any(String), exitCode: 3 } });
  });

  it('manages contexts in a 0600 file and redacts the database password', async () => {
    const env = isolatedEnv();
    const add = await runCli(['context', 'add', 'lab', '--host', 'tcp://10.1.2.3:2376', '--db', 'postgres://faas:hunter2@10.1.2.3/faas', '--use'], { env });
    expect(add.code, add.stderr).toBe(0);
    const file = join(env.XDG_CONFIG_HOME!, 'faasctl', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const ls = await runCli(['--json', 'context', 'ls'], { env });
    expect(JSON.parse(ls.stdout)).toEqual([
      { name: 'default', current: false, host: 'unix:///var/run/docker.sock', description: 'the local engine' },
      { name: 'lab', current: true, host: 'tcp://10.1.2.3:2376', database: 'postgres://faas:***@10.1.2.3/faas' },
    ]);
    expect(ls.stdout).not.toContain('hunter2');

    const show = await runCli(['context', 'show'], { env });
    expect(show.stdout).toContain('host\ttcp://10.1.2.3:2376\tcontext:lab');
    // DOCKER_HOST beats the file's current context, as with docker; --context beats DOCKER_HOST.
    const envHost = await runCli(['context', 'show'], { env: { ...env, DOCKER_HOST: 'tcp://192.0.2.1:2375' } });
    expect(envHost.stdout).toContain('host\ttcp://192.0.2.1:2375\tenv:DOCKER_HOST');
    expect(show.stdout).not.toContain('hunter2');

    const ctxFlag = await runCli(['--json', '--context', 'lab', 'context', 'show'], { env: { ...env, DOCKER_HOST: 'tcp://192.0.2.1:2375' } });
    expect(JSON.parse(ctxFlag.stdout).host).toEqual({ value: 'tcp://10.1.2.3:2376', source: 'context:lab' });

    expect((await runCli(['context', 'rm', 'lab'], { env })).code).toBe(0);
    expect((await runCli(['-q', 'context', 'ls'], { env })).stdout).toBe('default\n');
  });

  it('has no escape codes with NO_COLOR, --no-color or a pipe', async () => {
    const env = isolatedEnv({ FORCE_COLOR: '1' });
    // The control: forced colour does colour the error line (a piped table never has escape codes).
    const forced = await runCli(['whoami'], { env });
    expect(forced.stderr).toMatch(/\x1b\[/);
    const doctor = await runCli(['doctor', '--host', 'unix:///tmp/faasctl-dead.sock'], { env });
    expect(doctor.stdout).toMatch(/^engine\tFAIL\t/);
    expect(doctor.stdout + doctor.stderr).not.toMatch(/\x1b\[/);
    for (const extra of [{ NO_COLOR: '1' }, {}]) {
      for (const args of [['doctor', '--host', 'unix:///tmp/faasctl-dead.sock'], ['whoami']]) {
        const r = await runCli([...args, ...(extra.NO_COLOR ? [] : ['--no-color'])], { env: { ...env, ...extra } });
        expect(r.stdout + r.stderr).not.toMatch(/\x1b\[/);
      }
    }
  });

  describe('doctor on the test bed', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    beforeAll(async () => {
      db = await createTestDatabase(inject('databaseUrl'));
    });
    afterAll(async () => db?.drop());

    it('passes after up, with --json parsing and nothing else on stdout', async () => {
      const env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
      const up = await runCli(['up'], { env, timeoutMs: 300_000 });
      expect(up.code, up.stderr).toBe(0);
      const r = await runCli(['--json', 'doctor'], { env });
      expect(r.code, r.stdout).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.ok).toBe(true);
      expect(report.checks.map((c: { status: string }) => c.status)).not.toContain('fail');
    });

    it('exits 5 and names the engine for a dead socket', async () => {
      const r = await runCli(['--json', 'doctor'], { env: isolatedEnv({ FAASCTL_HOST: 'unix:///tmp/faasctl-dead.sock', FAASCTL_DATABASE_URL: db.url }) });
      expect(r.code).toBe(5);
      const engine = JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === 'engine');
      expect(engine.detail).toBe('cannot reach the Docker engine at unix:///tmp/faasctl-dead.sock (ENOENT)');
    });
  });
});

describe('the launcher', () => {
  it('turns a failure nothing awaited into one error line and exit 1, the stack only with --debug', async () => {
    const { spawnSync } = await import('node:child_process');
    const { writeFileSync } = await import('node:fs');
    const { BIN } = await import('../helpers/cli.js');
    // Preloaded into the process: a rejection no code awaits, while faasctl is at work.
    const stray = join(tempDir('faasctl-stray-'), 'stray.cjs');
    writeFileSync(stray, "setImmediate(() => Promise.reject(new Error('boom')));\n");
    const env = { ...isolatedEnv(), PATH: process.env.PATH };
    const plain = spawnSync(process.execPath, ['-r', stray, BIN, 'context', 'ls'], { env, encoding: 'utf8' });
    expect(plain.status).toBe(1);
    expect(plain.stderr).toBe('error: internal error: boom\nhint: this is a bug in faasctl: please report it with the output of --debug\n');
    const debug = spawnSync(process.execPath, ['-r', stray, BIN, '--debug', 'context', 'ls'], { env, encoding: 'utf8' });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/error: internal error: boom\n[\s\S]*Error: boom\n\s+at /);
  });
});

describe('up --registry', () => {
  it('refuses a registry that is not HOST:PORT in one line, before touching anything, and saves nothing', async () => {
    const { readFileSync, existsSync } = await import('node:fs');
    const env = { ...isolatedEnv(), FAASCTL_HOST: 'unix:///tmp/faasctl-dead.sock' };
    const r = await runCli(['up', '--registry', 'http://10.0.0.5:5000'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: invalid registry "http://10.0.0.5:5000"\nhint: give HOST:PORT, as in --registry 10.0.0.5:5000 (no scheme, no path)\n');
    const config = join(env.XDG_CONFIG_HOME!, 'faasctl', 'config.json');
    expect(existsSync(config) ? readFileSync(config, 'utf8') : '').not.toContain('10.0.0.5');
  });
});
