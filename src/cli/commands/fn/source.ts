import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { DependencyInput, LocalFiles } from '../../../core/functions/dependencies.js';
import { UsageError } from '../../../base/errors.js';
import { textOf } from '../../text-input.js';
import type { CodeArchive } from '../../../core/functions/code-archive.js';
import { aptFlagPackages, parseAptPackages } from '../../../core/functions/apt-packages.js';
import { BESIDE_CODE, directoryFiles, isZip, readZip, zipDirectory } from './code-archive.js';

/** What `fn deploy|update|run PATH` names: a Python file, or a directory holding one (and maybe requirements.txt). */
export interface FunctionSource {
  /** The entry module's text. */
  code: string;
  /** A directory with more than its function file, or a zip: the whole code, zipped. */
  archive?: CodeArchive;
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
  /** `--apt NAME`: Debian packages, besides a directory's apt.txt. */
  apt?: string[];
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
  let aptFile: string | undefined;
  let defaultName: string;
  if (kind === 'dir') {
    defaultName = toName(basename(resolve(path)));
    const candidates = functionFileCandidates(flags.name ?? defaultName);
    const found = await firstFile(candidates.map((c) => join(path, c)));
    if (!found) throw new UsageError(`${path} has no function file: none of ${candidates.join(', ')}`, { code: 'bad_file', hint: 'put the function in one of them, or give the file itself' });
    file = found;
    if (requirementsFile === undefined && (await kindOf(join(path, 'requirements.txt'))) === 'file') requirementsFile = join(path, 'requirements.txt');
    if ((await kindOf(join(path, 'apt.txt'))) === 'file') aptFile = join(path, 'apt.txt');
  } else {
    defaultName = toName(basename(path).replace(/\.(py|zip)$/i, ''));
  }
  const bytes = await readBytes(file, 'give the path of a Python file, a zip, or a directory holding one');
  let code: string;
  let archive: CodeArchive | undefined;
  let filename = basename(file);
  if (kind === 'file' && isZip(bytes)) {
    ({ code, archive } = await readZip(path, bytes, functionFileCandidates(flags.name ?? defaultName)));
    filename = archive.module;
  } else {
    code = textOf(bytes, file, 'a function is Python source (a .py file, a zip, or a directory holding one)', 'give the path of a Python file, a zip, or a directory holding one');
    if (kind === 'dir') archive = await directoryArchive(path, filename);
  }
  if (flags.pipIndexUrl !== undefined && requirementsFile === undefined) {
    throw new UsageError('--pip-index-url goes with requirements', { code: 'bad_flags', hint: 'give --requirements FILE, or a directory holding requirements.txt' });
  }
  const apt = [...(aptFile ? parseAptPackages(await readText(aptFile, 'give Debian package names, one or more a line', 'apt.txt is text'), aptFile) : []), ...aptFlagPackages(flags.apt)];
  let dependencies: DependencyInput | null | undefined = requirementsFile === undefined ? (kind === 'dir' ? null : undefined) : await readDependencies(requirementsFile, flags.pipIndexUrl);
  if (apt.length) dependencies = { ...(dependencies ?? { requirements: '', source: aptFile ?? '--apt', baseDir: resolve(kind === 'dir' ? path : dirname(path)) }), apt };
  return { code, ...(archive ? { archive } : {}), filename, file, defaultName, dependencies };
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
  return textOf(await readBytes(file, hint), file, expected, hint);
}

async function readBytes(file: string, hint: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`, { code: 'bad_file', hint });
  }
}

/**
 * A directory ships whole (its modules, packages and data files) unless it holds only its
 * function file and requirements.txt / apt.txt: then that one file, exactly as before.
 */
async function directoryArchive(dir: string, module: string): Promise<CodeArchive | undefined> {
  const files = await directoryFiles(dir);
  if ([...files.keys()].every((path) => path === module || BESIDE_CODE.has(path))) return undefined;
  return zipDirectory(files, module);
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
