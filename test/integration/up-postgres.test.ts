import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { freePort } from '../helpers/postgres.js';
import { createTestContext } from '../helpers/test-context.js';

const IMAGE = process.env.FAASCTL_POSTGRES_IMAGE ?? 'faasctl/postgres:15-bookworm';
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const exists = (kind: 'service' | 'secret' | 'volume', name: string) => {
  try {
    docker(kind, 'inspect', name);
    return true;
  } catch {
    return false;
  }
};

function removeAll(name: string): void {
  for (const [kind, obj] of [['service', name], ['secret', `${name}-password`]] as const) if (exists(kind, obj)) docker(kind, 'rm', obj);
  for (let i = 0; i < 30 && exists('volume', `${name}-data`); i++) {
    try {
      docker('volume', 'rm', `${name}-data`);
    } catch {
      execFileSync('sleep', ['1']);
    }
  }
}

describe('up deploys PostgreSQL as a Swarm service when no database is configured', () => {
  const name = `faasctl-it-${randomUUID().slice(0, 8)}`;
  const first = createTestContext();
  const run = async (...args: string[]) => {
    const t = createTestContext({ env: { XDG_CONFIG_HOME: first.configDir } });
    const code = await main(['node', 'faasctl', ...args], t.ctx);
    return { code, stdout: t.stdout(), stderr: t.stderr() };
  };
  afterAll(() => removeAll(name));

  it('ends with PostgreSQL running, the URL in the context, doctor green; a second up changes nothing; data survives a restart', async () => {
    const port = String(await freePort());
    const up = await run('--json', 'up', '--postgres-image', IMAGE, '--postgres-name', name, '--postgres-port', port);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).steps.find((s: { step: string }) => s.step === 'database').outcome).toBe('created');
    const config = JSON.parse(readFileSync(join(first.configDir, 'faasctl', 'config.json'), 'utf8'));
    const url: string = config.contexts.default.database;
    expect(url).toMatch(new RegExp(`^postgres://faasctl:[^@]+@127\\.0\\.0\\.1:${port}/faasctl$`));
    expect(up.stdout).not.toContain(new URL(url).password);

    const doctor = await run('--json', 'doctor');
    expect(doctor.code, doctor.stdout).toBe(0);

    const again = await run('--json', 'up', '--postgres-image', IMAGE, '--postgres-name', name, '--postgres-port', port);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).steps.map((s: { outcome: string }) => s.outcome)).not.toContain('created');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE TABLE survivor (v text)');
    await client.query("INSERT INTO survivor VALUES ('still here')");
    await client.end();
    docker('service', 'update', '--force', '--detach=false', '-q', name);
    let rows: unknown[] = [];
    for (let i = 0; i < 60 && rows.length === 0; i++) {
      const c = new pg.Client({ connectionString: url });
      try {
        await c.connect();
        rows = (await c.query('SELECT v FROM survivor')).rows;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        await c.end().catch(() => {});
      }
    }
    expect(rows).toEqual([{ v: 'still here' }]);
  });

  it('fails with one clear error on an image that cannot run, and leaves no service or secret', async () => {
    const bad = `faasctl-it-${randomUUID().slice(0, 8)}`;
    const other = createTestContext();
    try {
      const code = await main(['node', 'faasctl', 'up', '--postgres-image', 'faasctl/does-not-exist:1', '--postgres-name', bad, '--postgres-port', String(await freePort())], other.ctx);
      expect(code).not.toBe(0);
      expect(other.stderr().split('\n')[0]).toMatch(/^error: /);
      expect(exists('service', bad)).toBe(false);
      expect(exists('secret', `${bad}-password`)).toBe(false);
    } finally {
      removeAll(bad);
    }
  });
});
