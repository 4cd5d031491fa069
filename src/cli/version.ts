import { readFileSync } from 'node:fs';
import { packagePath } from '../base/paths.js';

let cached: string | undefined;

/** Read from package.json at run time so there is one place to bump it. */
export function version(): string {
  cached ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
