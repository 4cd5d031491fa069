import { UsageError } from '../base/errors.js';
import { textOf } from './text-input.js';
import { readFile } from 'node:fs/promises';

/**
 * `--env-file F` (fn deploy|update|run) and a functions file's `envFiles`: docker's env-file
 * format, so one file serves both. A line is KEY=VALUE (the value as written, quotes and all:
 * docker does not unquote either); blank lines and lines starting with # are skipped.
 */

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** KEY=VALUE pairs in file order (a later line wins, as with repeated --env). */
export async function readEnvFile(path: string): Promise<string[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read env file ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { code: 'bad_file', hint: 'give the path of a KEY=VALUE file' });
  }
  return parseEnvFile(textOf(bytes, path, 'an env file is text, KEY=VALUE a line', 'give the path of a KEY=VALUE file'), path);
}

export function parseEnvFile(text: string, path: string): string[] {
  const pairs: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const at = line.indexOf('=');
    const key = at < 0 ? line.trimEnd() : line.slice(0, at);
    const col = raw.length - line.length + 1;
    if (at < 0 || !KEY.test(key)) {
      throw new UsageError(`${path}:${i + 1}:${col}: expected KEY=VALUE, found "${line.slice(0, 40)}"`, {
        code: 'bad_env_file',
        hint: 'one KEY=VALUE a line, KEY of letters, digits and "_"; # starts a comment',
      });
    }
    pairs.push(`${key}=${line.slice(at + 1)}`);
  });
  return pairs;
}
