import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

let pg: ThrowawayPostgres | undefined;

/**
 * Real parts: the project's test bed (dockerd, Swarm, images; idempotent and quick when
 * already up) and a throwaway PostgreSQL unless FAASCTL_TEST_DATABASE_URL names one.
 */
export async function setup(project: TestProject): Promise<void> {
  execFileSync('bash', ['scripts/testbed.sh', 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  let url = process.env.FAASCTL_TEST_DATABASE_URL;
  if (!url) {
    pg = await startThrowawayPostgres(mkdtempSync(join(tmpdir(), 'faasctl-pg-')));
    url = pg.url;
  }
  project.provide('databaseUrl', url);
}

export async function teardown(): Promise<void> {
  pg?.destroy();
}
