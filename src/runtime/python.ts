import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../base/paths.js';
import { importExternal } from '../base/external.js';

/** The runtime's build context, shipped with faasctl. */
export const runtimeDir = (): string => packagePath('runtimes', 'python');

export const RUNTIME_REPO = 'faasctl/runtime-python';

/**
 * The files of a build context as sorted `/`-separated relative paths, recursively, without
 * dotfiles and `__pycache__` (bytecode a local test run may leave; the image drops it).
 */
export function contextFiles(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === '__pycache__') continue;
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...contextFiles(dir, path));
    else files.push(path);
  }
  return files.sort();
}

/** sha256 over a build context: each file's relative path and content, in path order. */
export async function contextHash(dir: string): Promise<string> {
  // Loaded here: node:crypto costs ~3 ms of start-up for commands that never hash.
  const { createHash } = await importExternal<typeof import('node:crypto')>('node:crypto');
  const hash = createHash('sha256');
  for (const path of contextFiles(dir)) {
    hash
      .update(path)
      .update('\0')
      .update(readFileSync(join(dir, path)))
      .update('\0');
  }
  return hash.digest('hex');
}

/**
 * The runtime image is tagged by a hash of its build context (every module of the runtime
 * package included), so a faasctl with a changed runtime builds a new image instead of
 * silently running the old one. scripts/bench/invoke.mjs computes the same tag.
 */
export async function runtimeImageRef(registry?: string): Promise<string> {
  const tag = (await contextHash(runtimeDir())).slice(0, 12);
  return `${registry ? `${registry.replace(/\/+$/, '')}/` : ''}${RUNTIME_REPO}:${tag}`;
}
