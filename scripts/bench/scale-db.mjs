// The scale bench's database: a throwaway PostgreSQL cluster (initdb + pg_ctl on a free port,
// as test/helpers/postgres.ts does for the tests) with pg_stat_statements loaded, so each
// command's time inside the database can be told from the CLI's own.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function pgBin(name) {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const base = '/usr/lib/postgresql';
  for (const v of existsSync(base) ? readdirSync(base).sort().reverse() : []) {
    const candidate = join(base, v, 'bin', name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found: run bash scripts/testbed.sh (it installs PostgreSQL)`);
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

// initdb refuses to run as root.
function asPostgres(cmd, args) {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts the cluster; returns {url, dir, destroy()}. Durability off: it is thrown away. */
export async function startBenchPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'faasctl-bench-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  const password = 'faasctl-bench';
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password, { mode: 0o644 });
  asPostgres(pgBin('initdb'), ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8']);
  // Default memory settings (work_mem 4 MB), as an installation's would be; only durability is off.
  const opts = [
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
    '-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all',
  ].join(' ');
  const pgCtl = pgBin('pg_ctl');
  asPostgres(pgCtl, ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    dir,
    destroy() {
      try {
        asPostgres(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The real migrations, applied by faasctl's own migrate module (bundled from src/ on the fly,
 * so the bench needs no extra build step and records them as `faasctl up` would).
 */
export async function applySchema(pool, root) {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'faasctl-bench-mig-'));
  const out = join(dir, 'migrate.mjs');
  const contents = ["export { applyMigrations } from './src/db/migrate.ts';", "export { loadMigrations } from './src/db/migrations.ts';"].join('\n');
  await build({ stdin: { contents, resolveDir: root, loader: 'ts' }, outfile: out, bundle: true, platform: 'node', format: 'esm', external: ['pg'], logLevel: 'error' });
  const { applyMigrations, loadMigrations } = await import(out);
  rmSync(dir, { recursive: true, force: true });
  const db = {
    where: 'bench',
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    async withTransaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({ query: async (sql, params) => (await client.query(sql, params)).rows });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
  };
  return applyMigrations(db, await loadMigrations(join(root, 'migrations')));
}

/** Milliseconds PostgreSQL spent executing statements since the last reset, the bench's own excepted. */
export async function databaseMs(pool) {
  const { rows } = await pool.query(`SELECT COALESCE(sum(total_exec_time), 0)::float8 AS ms FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'`);
  return rows[0].ms;
}

export const resetStatements = (pool) => pool.query('SELECT pg_stat_statements_reset()');
