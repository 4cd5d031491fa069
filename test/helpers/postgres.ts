import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A throwaway PostgreSQL cluster in a temp dir: initdb + pg_ctl on a free port. */
export interface ThrowawayPostgres {
  url: string;
  port: number;
  dir: string;
  stop(): void;
  start(): void;
  destroy(): void;
}

function pgBin(name: string): string {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const base = '/usr/lib/postgresql';
  for (const v of existsSync(base) ? readdirSync(base).sort().reverse() : []) {
    const candidate = join(base, v, 'bin', name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found: run bash scripts/testbed.sh (it installs PostgreSQL)`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** initdb refuses to run as root, so the cluster runs as the postgres user when we are root. */
function asPostgres(cmd: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * `dir`: a new empty directory for it, removed by destroy(); tests pass tempDir('faasctl-pg-')
 * (test/helpers/temp.ts), the global setup, which cannot import vitest, one of its own.
 */
export async function startThrowawayPostgres(dir: string): Promise<ThrowawayPostgres> {
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  const password = 'faasctl-test';
  const pwfile = join(dir, 'pw');
  execFileSync('sh', ['-c', `printf %s '${password}' > ${pwfile} && chmod 644 ${pwfile}`]);
  asPostgres(pgBin('initdb'), ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8']);
  const pgCtl = pgBin('pg_ctl');
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const start = () => asPostgres(pgCtl, ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = () => asPostgres(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
  start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start,
    stop,
    destroy() {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
