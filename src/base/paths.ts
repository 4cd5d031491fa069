import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The faasctl package directory (holding package.json, migrations/, runtimes/). Found by
 * walking up, because the code runs from src/ under vitest and from a bundle in dist/.
 */
export function packageRoot(): string {
  if (root) return root;
  // The bundle is CommonJS (import.meta is empty there); vitest runs the ES module sources.
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  let dir = dirname(here);
  while (!existsSync(join(dir, 'migrations')) || !existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the faasctl package root (migrations/ next to package.json)');
    dir = parent;
  }
  root = dir;
  return root;
}

export const packagePath = (...parts: string[]): string => join(packageRoot(), ...parts);
