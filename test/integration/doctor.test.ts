import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { SCHEMA_VERSION } from '../../src/db/migrate.js';
import { createTestContext } from '../helpers/test-context.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';

const argv = (...args: string[]) => ['node', 'faasctl', ...args];

async function doctor(env: Record<string, string>) {
  const t = createTestContext({ env });
  const code = await main(argv('--json', 'doctor'), t.ctx);
  const report = JSON.parse(t.stdout());
  const checks = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
  return { code, report, checks };
}

describe('doctor against the real engine and PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('is green once up has applied the schema', async () => {
    const up = createTestContext({ env: { FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' } });
    expect(await main(argv('--json', 'up'), up.ctx), up.stderr()).toBe(0);
    const { code, checks } = await doctor({ FAASCTL_DATABASE_URL: db.url });
    expect(checks.engine.status).toBe('ok');
    expect(checks.engine.detail).toMatch(/^Docker \S+ \(API 1\.\d+/);
    expect(checks.swarm.status).toBe('ok');
    expect(checks.nodes.detail).toMatch(/^1\/1 ready/);
    expect(checks['runtime image'].status).toBe('ok');
    expect(checks.database.detail).toMatch(/^PostgreSQL 1\d/);
    expect(checks.schema.detail).toBe(`version ${SCHEMA_VERSION}`);
    expect(code).toBe(0);
  });

  it('names a dead Docker socket with the connection exit code', async () => {
    const { code, checks } = await doctor({ FAASCTL_HOST: 'unix:///tmp/faasctl-no-such.sock', FAASCTL_DATABASE_URL: db.url });
    expect(code).toBe(5);
    expect(checks.engine).toMatchObject({ status: 'fail', detail: 'cannot reach the Docker engine at unix:///tmp/faasctl-no-such.sock (ENOENT)' });
    expect(checks.engine.fix).toBeTruthy();
    expect(checks.database.status).toBe('ok');
  });

  it('reports a schema that was never applied as not set up (3)', async () => {
    const empty = await createTestDatabase(inject('databaseUrl'));
    try {
      const { code, checks } = await doctor({ FAASCTL_DATABASE_URL: empty.url });
      expect(checks.schema).toMatchObject({ status: 'fail', detail: 'not applied', fix: 'run faasctl up' });
      expect(code).toBe(3);
    } finally {
      await empty.drop();
    }
  });

  describe('with a PostgreSQL that goes away', () => {
    let pg: ThrowawayPostgres;
    beforeAll(async () => {
      pg = await startThrowawayPostgres(tempDir('faasctl-pg-'));
    });
    afterAll(() => pg?.destroy());

    it('names the stopped database with the connection exit code', async () => {
      pg.stop();
      const { code, checks } = await doctor({ FAASCTL_DATABASE_URL: pg.url });
      expect(code).toBe(5);
      expect(checks.database.status).toBe('fail');
      expect(checks.database.detail).toBe(`cannot reach PostgreSQL at 127.0.0.1:${pg.port}/postgres (ECONNREFUSED)`);
      expect(checks.engine.status).toBe('ok');
      expect(JSON.stringify(checks)).not.toContain('faasctl-test');
    });
  });
});
