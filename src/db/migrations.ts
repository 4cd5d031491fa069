import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One numbered file of the migrations folder, e.g. `0007_function_tags.sql`. */
export interface Migration {
  /** The number in the file name; also the schema version the database has once it ran. */
  version: number;
  /** The words after the number: `function_tags`. */
  name: string;
  file: string;
  sql: string;
  /** Of the text with CRLF read as LF, so a Windows checkout does not look like an edit. */
  sha256: string;
}

const FILE_NAME = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;

/** `0007_function_tags.sql` → {version: 7, name: 'function_tags'}; anything else is refused. */
export function parseMigrationName(file: string): { version: number; name: string } {
  const match = FILE_NAME.exec(file);
  if (!match || Number(match[1]) === 0) {
    throw new Error(`migration file ${file} is not named NNNN_words.sql (a four-digit number from 0001, lower-case words joined by _)`);
  }
  return { version: Number(match[1]), name: match[2] as string };
}

export function migrationSha256(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/**
 * The migrations in the order they apply. Numbers must follow each other without a gap or a
 * repeat: two branches that each add "the next" migration then collide here, not in a database.
 */
export function orderMigrations(files: Array<{ file: string; sql: string }>): Migration[] {
  const migrations = files.map(({ file, sql }) => ({ ...parseMigrationName(file), file, sql, sha256: migrationSha256(sql) })).sort((a, b) => a.version - b.version);
  if (migrations.length === 0) throw new Error('no migrations found');
  migrations.forEach((m, i) => {
    const previous = migrations[i - 1];
    if (previous && m.version !== previous.version + 1) {
      throw new Error(`migrations ${previous.file} and ${m.file} do not follow each other: numbers must run without gaps or repeats`);
    }
  });
  return migrations;
}

/** Reads every `.sql` file of `dir` (the package's `migrations/`). */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql'));
  return orderMigrations(await Promise.all(files.map(async (file) => ({ file, sql: await readFile(join(dir, file), 'utf8') }))));
}
