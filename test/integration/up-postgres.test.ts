import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { freePort } from '../helpers/postgres.js';
import { createTestContext } from '../helpers/test-context.js';

const IMAGE = process.env.FAASCTL_POSTGRES_IMAGE ?? 'faasctl/postgres:15-bookworm';
const BASE_IMAGE = process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm';
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const itName = () => `faasctl-it-${randomUUID().slice(0, 8)}`;

function exists(kind: 'service' | 'secret' | 'volume', name: string): boolean {
  try {
    docker(kind, 'inspect', name);
    return true;
  } catch {
    return false;
  }
}

/** Service, then secret, then the volume once the stopping container lets go of it. */
async function removeAll(name: string): Promise<void> {
  if (exists('service', name)) docker('service', 'rm', name);
  if (exists('secret', `${name}-password`)) docker('secret', 'rm', `${name}-password`);
  for (let i = 0; i < 60 && exists('volume', `${name}-data`); i++) {
    try {
      docker('volume', 'rm', `${name}-data`);
    } catch {
      await sleep(500);
    }
  }
}

/** Runs faasctl in-process with its own config dir (no database configured anywhere). */
async function faasctl(configDir: string, ...args: string[]) {
  const t = createTestContext({ env: { XDG_CONFIG_HOME: configDir, HOME: configDir, FAASCTL_BASE_IMAGE: BASE_IMAGE } });
  const code = await main(['node', 'faasctl', ...args], t.ctx);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

/** Until the table answers: the new task has to start PostgreSQL on the old volume. */
async function readSurvivor(url: string): Promise<unknown[]> {
  let last: unknown;
  for (let i = 0; i < 120; i++) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      return (await c.query('SELECT v FROM survivor')).rows;
    } catch (err) {
      last = err;
      await sleep(500);
    } finally {
      await c.end().catch(() => {});
    }
  }
  throw last;
}

describe('up deploys PostgreSQL as a Swarm service when no database is configured', () => {
  const name = itName();
  const { configDir } = createTestContext();
  const upArgs = (n: string, port: number, image = IMAGE) => ['up', '--postgres-image', image, '--postgres-name', n, '--postgres-port', String(port)];
  let port = 0;

  afterAll(async () => {
    await removeAll(name);
    expect([exists('service', name), exists('secret', `${name}-password`), exists('volume', `${name}-data`)]).toEqual([false, false, false]);
  });

  it('deploys, saves the URL (0600), and doctor is green', async () => {
    port = await freePort();
    const up = await faasctl(configDir, '--json', ...upArgs(name, port));
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const steps = JSON.parse(up.stdout).steps as Array<{ step: string; outcome: string; detail: string }>;
    expect(steps.find((s) => s.step === 'database')).toMatchObject({ outcome: 'created', detail: expect.stringContaining(`at 127.0.0.1:${port}`) });
    const file = join(configDir, 'faasctl', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const url: string = JSON.parse(readFileSync(file, 'utf8')).contexts.default.database;
    expect(url).toMatch(new RegExp(`^postgres://faasctl:[A-Za-z0-9_-]{43}@127\\.0\\.0\\.1:${port}/faasctl$`));
    expect(up.stdout + up.stderr).not.toContain(new URL(url).password);
    expect(docker('service', 'inspect', name, '--format', '{{index .Spec.Labels "io.faasctl.component"}}')).toBe('postgres');

    const doctor = await faasctl(configDir, '--json', 'doctor');
    expect(doctor.code, doctor.stdout).toBe(0);
  });

  it('changes nothing on a second up', async () => {
    const again = await faasctl(configDir, '--json', ...upArgs(name, port));
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const steps = JSON.parse(again.stdout).steps as Array<{ step: string; outcome: string }>;
    expect(steps.map((s) => s.outcome)).not.toContain('created');
    expect(steps.find((s) => s.step === 'database')?.outcome).toBe('exists');
    expect(docker('secret', 'ls', '-q', '--filter', `name=${name}-password`).split('\n')).toHaveLength(1);
  });

  it('keeps the data when the task container dies and Swarm starts a new one', async () => {
    const url: string = JSON.parse(readFileSync(join(configDir, 'faasctl', 'config.json'), 'utf8')).contexts.default.database;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE TABLE survivor (v text)');
    await client.query("INSERT INTO survivor VALUES ('still here')");
    await client.end();
    const before = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}`);
    docker('rm', '-f', before);
    expect(await readSurvivor(url)).toEqual([{ v: 'still here' }]);
    const after = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}`);
    expect(after).not.toBe('');
    expect(after).not.toBe(before);
  });

  it('refuses with one clear conflict when the service exists but the config was lost', async () => {
    const lost = createTestContext().configDir;
    const r = await faasctl(lost, ...upArgs(name, port));
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `error: the PostgreSQL service ${name} already exists, but context "default" has no database URL\n` +
        `hint: pass --db with its URL, or remove the old database: docker service rm ${name}; docker secret rm ${name}-password; docker volume rm ${name}-data\n`,
    );
    expect(docker('secret', 'ls', '-q', '--filter', `name=${name}-password`).split('\n')).toHaveLength(1);
  });

  it('fails fast on an image that does not exist, leaving no service, secret or volume', async () => {
    const bad = itName();
    try {
      const started = Date.now();
      const r = await faasctl(createTestContext().configDir, '--json', ...upArgs(bad, await freePort(), 'faasctl/does-not-exist:1'));
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'image_not_found', message: `PostgreSQL service ${bad} did not start: task rejected: No such image: faasctl/does-not-exist:1` });
      expect([exists('service', bad), exists('secret', `${bad}-password`), exists('volume', `${bad}-data`)]).toEqual([false, false, false]);
    } finally {
      await removeAll(bad);
    }
  });
});
