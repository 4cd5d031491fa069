import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

/**
 * A fresh private directory for a test, under the run's temp root, which the run's global
 * teardown removes whole: no test has to remember to clean up, and a run leaves nothing in the
 * temp folder however its files end. Outside a vitest worker (no root provided) it falls back
 * to the system temp folder.
 */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tempRoot(), prefix));
}

function tempRoot(): string {
  try {
    return inject('tempRoot') ?? tmpdir();
  } catch {
    return tmpdir(); // not in a test worker (a global setup, a script)
  }
}
