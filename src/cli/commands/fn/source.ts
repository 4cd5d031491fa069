import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { DependencyInput, LocalFiles } from '../../../core/functions/dependencies.js';
import { UsageError } from '../../../base/errors.js';
import { textOf } from '../../text-input.js';

/** What `fn deploy|update|run PATH` names: a Python file, or a directory holding one (and maybe requirements.txt). */
export interface FunctionSource {
  code: string;
  /** Shown in syntax errors. */
  filename: string;
  /** The function file's path, for hints. */
  file: string;
  /** The default function name: the file's name without .py, or the directory's name. */
  defaultName: string;
  /** undefined: no requirements given; null: a directory without requirements.txt (none). */
  dependencies: DependencyInput | null | undefined;
}

export interface SourceFlags {
  name?: string;
  requirements?: string;
  pipIndexUrl?: string;
}

/** The function file of a directory: NAME.py, else handler.py, else main.py. */
export function functionFileCandidates(name: string): string[] {
  return [`${name}.py`, 'handler.py', 'main.py'];
}

export async function readFunctionSource(path: string, flags: SourceFlags): Promise<FunctionSource> {
  const kind = await kindOf(path);
  let file = path;
  let requirementsFile = flags.requirements;
  let defaultName: string;
  if (kind === 'dir') {
    defaultName = toName(basename(resolve(path)));
    const candidates = functionFileCandidates(flags.name ?? defaultName);
    const found = await firstFile(candidates.map((c) => join(path, c)));
    if (!found) throw new UsageError(`${path} has no function file: none of ${candidates.join(', ')}`, { code: 'bad_file', hint: 'put the function in one of them, or give the file itself' });
    file = found;
    if (requirementsFile === undefined && (await kindOf(join(path, 'requirements.txt'))) === 'file') requirementsFile = join(path, 'requirements.txt');
  } else {
    defaultName = toName(basename(path).replace(/\.py$/i, ''));
  }
  const code = await readText(file, 'give the path of a Python file or of a directory holding one', 'a function is Python source (a .py file, or a directory holding one)');
  if (flags.pipIndexUrl !== undefined && requirementsFile === undefined) {
    throw new UsageError('--pip-index-url goes with requirements', { code: 'bad_flags', hint: 'give --requirements FILE, or a directory holding requirements.txt' });
  }
  const dependencies = requirementsFile === undefined ? (kind === 'dir' ? null : undefined) : await readDependencies(requirementsFile, flags.pipIndexUrl);
  return { code, filename: basename(file), file, defaultName, dependencies };
}

async function readDependencies(file: string, indexUrl: string | undefined): Promise<DependencyInput> {
  const requirements = await readText(file, 'give the path of a requirements.txt', 'requirements are a text file, one requirement a line');
  return { requirements, source: file, baseDir: dirname(resolve(file)), ...(indexUrl !== undefined ? { indexUrl } : {}) };
}

/** `examples/fib_madhat` → `fib_madhat`; the name is validated like any other. */
function toName(base: string): string {
  return base.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}

async function readText(file: string, hint: string, expected: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`, { code: 'bad_file', hint });
  }
  return textOf(bytes, file, expected, hint);
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isDirectory() ? 'dir' : s?.isFile() ? 'file' : undefined;
}

async function firstFile(paths: string[]): Promise<string | undefined> {
  for (const p of paths) if ((await kindOf(p)) === 'file') return p;
  return undefined;
}

/** The local packages a requirements file names, read from this machine's file system. */
export const nodeLocalFiles: LocalFiles = {
  kind: kindOf,
  async list(dir) {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, kind: e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other' }));
  },
  read: (path) => readFile(path),
};
