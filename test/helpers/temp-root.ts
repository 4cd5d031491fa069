import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's parent of every temp dir a test makes (test/helpers/temp.ts). */
    tempRoot: string;
  }
}

/**
 * A global setup for every project: one directory per run and project in the temp folder,
 * under which test/helpers/temp.ts makes every test's temp dirs; the teardown removes it.
 * Traversable by others (0711) because the throwaway PostgreSQL runs as the postgres user.
 */
export function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), `faasctl-test-${project.name}-`));
  chmodSync(root, 0o711);
  project.provide('tempRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}
