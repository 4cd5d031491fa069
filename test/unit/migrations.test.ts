import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/db/migrate.js';
import { loadMigrations, migrationSha256, orderMigrations, parseMigrationName } from '../../src/db/migrations.js';
import { packagePath } from '../../src/base/paths.js';

const file = (name: string, sql = `-- ${name}\n`) => ({ file: name, sql });

describe('migration file names', () => {
  it('reads the version and the name', () => {
    expect(parseMigrationName('0006_baseline.sql')).toEqual({ version: 6, name: 'baseline' });
    expect(parseMigrationName('0107_function_tags2.sql')).toEqual({ version: 107, name: 'function_tags2' });
  });

  it.each(['6_baseline.sql', '0000_zero.sql', '0007-dash.sql', '0007_Upper.sql', '0007_.sql', '0007_a__b.sql', '0007_x.sql.bak', '00007_five.sql'])('refuses %s', (name) =>
    expect(() => parseMigrationName(name)).toThrow(/is not named NNNN_words\.sql/),
  );
});

describe('migration order', () => {
  it('sorts by number, not by the order the folder lists them', () => {
    const ordered = orderMigrations([file('0008_c.sql'), file('0006_a.sql'), file('0007_b.sql')]);
    expect(ordered.map((m) => m.file)).toEqual(['0006_a.sql', '0007_b.sql', '0008_c.sql']);
  });

  it('refuses a gap, a repeated number and an empty folder', () => {
    expect(() => orderMigrations([file('0006_a.sql'), file('0008_c.sql')])).toThrow('migrations 0006_a.sql and 0008_c.sql do not follow each other');
    expect(() => orderMigrations([file('0007_mine.sql'), file('0006_a.sql'), file('0007_yours.sql')])).toThrow(/0007_\w+\.sql and 0007_\w+\.sql do not follow/);
    expect(() => orderMigrations([])).toThrow('no migrations found');
  });
});

describe('migration checksum', () => {
  it('is the sha256 of the text, reading CRLF as LF (a Windows checkout is not an edit)', () => {
    const sql = 'CREATE TABLE t (a int);\nSELECT 1;\n';
    expect(migrationSha256(sql)).toBe(createHash('sha256').update(sql).digest('hex'));
    expect(migrationSha256(sql.replace(/\n/g, '\r\n'))).toBe(migrationSha256(sql));
    expect(migrationSha256(`${sql} `)).not.toBe(migrationSha256(sql));
  });
});

describe('the shipped migrations folder', () => {
  it('ends at SCHEMA_VERSION, which doctor and the commands expect', async () => {
    const migrations = await loadMigrations(packagePath('migrations'));
    expect(migrations.at(-1)?.version).toBe(SCHEMA_VERSION);
    expect(migrations[0]).toMatchObject({ version: 6, name: 'baseline' });
  });

  it('is shipped in the npm package', () => {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('migrations');
  });
});
