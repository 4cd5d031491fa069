import { readdirSync, readFileSync } from 'node:fs';
import { packagePath } from '../paths.js';
import { importExternal } from '../external.js';

/** The runtime's build context, shipped with faasctl. */
export const runtimeDir = (): string => packagePath('runtimes', 'python');

export const RUNTIME_REPO = 'faasctl/runtime-python';

/**
 * The runtime image is tagged by a hash of its build context, so a faasctl with a
 * changed runtime builds a new image instead of silently running the old one.
 */
export async function runtimeImageRef(registry?: string): Promise<string> {
  // Loaded here: node:crypto costs ~3 ms of start-up for commands that never hash.
  const { createHash } = await importExternal<typeof import('node:crypto')>('node:crypto');
  const hash = createHash('sha256');
  const dir = runtimeDir();
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === '__pycache__') continue;
    hash.update(name).update('\0').update(readFileSync(`${dir}/${name}`)).update('\0');
  }
  const tag = hash.digest('hex').slice(0, 12);
  return `${registry ? `${registry.replace(/\/+$/, '')}/` : ''}${RUNTIME_REPO}:${tag}`;
}
