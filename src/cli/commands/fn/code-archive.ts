import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CodeArchive } from '../../../core/functions/code-archive.js';
import { UsageError } from '../../../base/errors.js';
import { textOf } from '../../text-input.js';

/**
 * Code as a directory or a zip, on this machine's side: a directory is zipped (every file but
 * caches and VCS data, in a fixed order with fixed times, so the same files make the same
 * bytes and the same sha256); a zip is taken as is, only read to find its entry module.
 */

/** Names never shipped from a code directory: caches, VCS data, environments. */
const SKIPPED = new Set(['__pycache__', '.git', '.hg', '.svn', '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.venv', 'venv', 'node_modules', '.DS_Store']);
/** What a directory holds besides its code without making it more than one file. */
export const BESIDE_CODE = new Set(['requirements.txt', 'apt.txt']);
/** DOS time starts in 1980; noon UTC is 1980-01-01 in every time zone. */
const FIXED_MTIME = new Date('1980-01-01T12:00:00Z');

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
export const isZip = (bytes: Buffer): boolean => bytes.subarray(0, 4).equals(ZIP_MAGIC);

/** A directory's files by relative posix path, in a stable order; symlinks and special files are left out. */
export async function directoryFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel ? join(dir, rel) : dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (SKIPPED.has(e.name) || /\.py[co]$/.test(e.name)) continue;
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isFile()) out.set(path, await readFile(join(dir, path)));
      else if (e.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return out;
}

/** The directory's files as one zip whose entry module is `module`. */
export async function zipDirectory(files: Map<string, Buffer>, module: string): Promise<CodeArchive> {
  const { zipSync } = await import('fflate');
  const zippable: Record<string, Uint8Array> = {};
  let unpackedBytes = 0;
  for (const [path, bytes] of files) {
    zippable[path] = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    unpackedBytes += bytes.length;
  }
  const bytes = Buffer.from(zipSync(zippable, { level: 6, mtime: FIXED_MTIME }));
  return { bytes, module, unpackedBytes, files: files.size };
}

/**
 * A zip given as code: its entry module is `__main__.py` at its top (OpenWhisk's), else the
 * first of `candidates` there. Answers the archive untouched and the module's text.
 */
export async function readZip(path: string, bytes: Buffer, candidates: string[]): Promise<{ archive: CodeArchive; code: string }> {
  const { unzipSync } = await import('fflate');
  const names: string[] = [];
  let unpackedBytes = 0;
  const wanted = ['__main__.py', ...candidates];
  let entries: Record<string, Uint8Array>;
  try {
    // Only the entry candidates are inflated: the sizes of the rest come from the directory.
    entries = unzipSync(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      filter: (f) => {
        if (!f.name.endsWith('/')) names.push(f.name);
        unpackedBytes += f.originalSize;
        return wanted.includes(f.name);
      },
    });
  } catch (err) {
    throw new UsageError(`${path} is not a zip archive faasctl can read: ${(err as Error).message}`, { code: 'bad_file', hint: 'make it with zip -r (deflate or stored entries)' });
  }
  const module = wanted.find((name) => entries[name] !== undefined);
  if (!module) {
    const top = names.filter((n) => !n.includes('/')).slice(0, 8);
    throw new UsageError(`${path} has no entry module at its top: none of ${wanted.join(', ')} (found: ${top.join(', ') || 'no files at the top'})`, {
      code: 'bad_file',
      hint: 'zip the files themselves, not their folder (cd DIR && zip -r ../code.zip .), with __main__.py or handler.py at the top',
    });
  }
  const code = textOf(Buffer.from(entries[module]!), `${path}:${module}`, 'a function is Python source', 'the entry module must be UTF-8 text');
  return { archive: { bytes, module, unpackedBytes, files: names.length }, code };
}
