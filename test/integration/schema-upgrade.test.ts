import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/db/migrate.js';
import { createTestDatabase, withClient } from '../helpers/test-db.js';

/**
 * `faasctl up` applies schema.sql to whatever database it finds. Every schema.sql that main
 * ever had (from git history) is applied first, then today's: the result must be today's
 * schema exactly, column for column, as on a fresh database.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
const current = readFileSync(resolve(ROOT, 'schema.sql'), 'utf8');
const history = git('log', '--format=%h', '--', 'schema.sql').split('\n').filter(Boolean).reverse();

const columns = (url: string) =>
  withClient(url, async (c) =>
    (
      await c.query<{ t: string; c: string; type: string; nullable: string; def: string | null }>(
        `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable, column_default AS def
           FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name`,
      )
    ).rows.map((r) => `${r.t}.${r.c} ${r.type} ${r.nullable === 'YES' ? 'null' : 'not null'} ${r.def ?? ''}`.trim()),
  );

describe('schema upgrades', () => {
  const made: Array<{ drop(): Promise<void> }> = [];
  afterAll(async () => {
    for (const db of made) await db.drop();
  });

  it('has history to test (a clone of the repository)', () => {
    expect(history.length).toBeGreaterThanOrEqual(2);
  });

  it('brings a database made by any earlier schema.sql to exactly what a fresh one gets', async () => {
    const fresh = await createTestDatabase(inject('databaseUrl'));
    made.push(fresh);
    await withClient(fresh.url, (c) => c.query(current));
    const want = await columns(fresh.url);
    expect(want.length).toBeGreaterThan(40);
    for (const commit of history.slice(0, -1)) {
      const old = await createTestDatabase(inject('databaseUrl'));
      made.push(old);
      await withClient(old.url, (c) => c.query(git('show', `${commit}:schema.sql`)));
      await withClient(old.url, (c) => c.query(current));
      expect(await columns(old.url), `upgraded from ${commit}`).toEqual(want);
      const [row] = (await withClient(old.url, (c) => c.query<{ value: string }>("SELECT value FROM faasctl_meta WHERE key = 'schema_version'"))).rows;
      expect(Number(row?.value), `version after upgrading from ${commit}`).toBe(SCHEMA_VERSION);
    }
  }, 120_000);
});
