// The request log at scale (issue 24): a throwaway PostgreSQL with the real schema, filled by
// SQL with 10k, 100k and 1M request rows (scale-fill.mjs), and the commands that read or
// delete history timed through the built binary (npm run build first) at each size. Prints the
// median wall time and database time (pg_stat_statements) per size, and the growth factor from
// the smallest size to the largest (target <= 2x, start-up included). The deletes need the
// engine (they look for the function's services), nothing else does.
//   npm run bench -- scale                     10k, 100k, 1M (~5 min)
//   npm run bench -- scale --scale-max 100k    the inner loop (~30 s)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applySchema, databaseMs, resetStatements, startBenchPostgres } from './scale-db.mjs';
import { createFunction, createOwners, fillRequests, rebuildRollups } from './scale-fill.mjs';
import { median, ms } from './stats.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/faasctl.cjs');
const SIZES = [10_000, 100_000, 1_000_000];
const RUNS = 5;
const DELETES = 3;
const PASSWORD = 'bench-password-1';

export const parseSize = (text) => {
  const m = /^(\d+)([km]?)$/i.exec(text ?? '');
  if (!m) throw new Error(`--scale-max wants a row count like 100k or 1m, not "${text}"`);
  return Number(m[1]) * { '': 1, k: 1e3, m: 1e6 }[m[2].toLowerCase()];
};

const READS = [
  ['stats (24h)', ['stats', '--json']],
  ['stats --since 30d', ['stats', '--since', '30d', '--json']],
  ['stats --since 365d', ['stats', '--since', '365d', '--json']],
  ['request list', ['request', 'list', '--json']],
  ['request list --type user', ['request', 'list', '--type', 'user', '--json']],
  ['request list --function', ['request', 'list', '--function', 'load-a', '--json']],
  ['report --since 30d', (dir) => ['report', '--since', '30d', '--out', join(dir, 'report.html'), '--json']],
];

export async function benchScale({ scaleMax } = {}) {
  const sizes = SIZES.filter((n) => n <= (scaleMax ?? Infinity));
  const { default: pg } = await import('pg');
  const server = await startBenchPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'faasctl-bench-scale-'));
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await applySchema(pool, root);
    const fill = (from, to, pattern = 'load-%') => fillRequests(pool, from, to, pattern);
    const rollupsMigration = readdirSync(join(root, 'migrations')).find((f) => f.includes('request_rollups'));
    const migrationSql = rollupsMigration ? readFileSync(join(root, 'migrations', rollupsMigration), 'utf8') : '';
    const env = cliEnv(join(dir, 'config.json'));
    cli(env, ['context', 'add', 'bench', '--db', server.url, '--use']);
    await loginAs(env, 'bench');
    await createOwners(pool, 'bench');
    const results = new Map();
    let filled = 0;
    for (const size of sizes) {
      const t0 = Date.now();
      await fill(filled, size);
      await rebuildRollups(pool, migrationSql);
      filled = size;
      await pool.query('VACUUM ANALYZE');
      console.error(`scale: ${size} rows in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      for (const [name, args] of READS) record(results, name, size, await timeRead(pool, env, typeof args === 'function' ? args(dir) : args));
      record(results, 'fn delete (5% of rows)', size, await timeDeletes(pool, (i) => victimFunction(fill, pool, env, size, i)));
      record(results, 'user delete --force (5%)', size, await timeDeletes(pool, (i) => victimUser(fill, pool, dir, size, i)));
    }
    return summarise(results, sizes);
  } finally {
    await pool.end();
    server.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function cliEnv(config) {
  // The bench's own context only: no FAASCTL_* or DATABASE_URL of the caller's shell.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FAASCTL_') && !k.startsWith('PG') && k !== 'DATABASE_URL'));
  return { ...env, FAASCTL_CONFIG: config, FAASCTL_PASSWORD: PASSWORD, NO_COLOR: '1' };
}

function cli(env, args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) return { wall, failed: `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0]}` };
  return { wall };
}

async function loginAs(env, name) {
  for (const args of [
    ['user', 'create', name],
    ['login', name],
  ]) {
    const r = cli(env, args);
    if (r.failed) throw new Error(`faasctl ${args.join(' ')}: ${r.failed}`);
  }
}

async function timeRead(pool, env, args) {
  cli(env, args); // warm the caches, as a database in use would have them
  await resetStatements(pool);
  const walls = [];
  for (let i = 0; i < RUNS; i++) {
    const r = cli(env, args);
    if (r.failed) return { failed: r.failed };
    walls.push(r.wall);
  }
  return { wall: median(walls), db: (await databaseMs(pool)) / RUNS };
}

/** Each delete gets its own victim holding 5% of the size in requests, made before the timing. */
async function timeDeletes(pool, makeVictim) {
  const walls = [],
    dbs = [];
  for (let i = 0; i < DELETES; i++) {
    const { env, args } = await makeVictim(i);
    await pool.query('VACUUM ANALYZE requests');
    await resetStatements(pool);
    const r = cli(env, args);
    if (r.failed) return { failed: r.failed };
    walls.push(r.wall);
    dbs.push(await databaseMs(pool));
  }
  return { wall: median(walls), db: median(dbs) };
}

let victimRows = 1e9; // the generated rows' numbers (g) stay distinct across fills
async function victimFunction(fill, pool, env, size, i) {
  const name = `victim-f${size}-${i}`;
  await createFunction(pool, 'bench', name);
  await fill(victimRows, victimRows + size / 20, name);
  victimRows += size / 20;
  return { env, args: ['fn', 'delete', name, '--json'] };
}

async function victimUser(fill, pool, dir, size, i) {
  const name = `victim-u${size}-${i}`;
  const config = join(dir, `${name}.json`);
  copyFileSync(join(dir, 'config.json'), config);
  const env = cliEnv(config);
  await loginAs(env, name);
  await createFunction(pool, name, `${name}-fn`);
  await fill(victimRows, victimRows + size / 20, `${name}-fn`);
  victimRows += size / 20;
  return { env, args: ['user', 'delete', '--force', '--yes', '--json'] };
}

function record(results, name, size, figure) {
  if (!results.has(name)) results.set(name, new Map());
  results.get(name).set(size, figure);
  const text = figure.failed ? `FAILED (${figure.failed})` : `${ms(figure.wall)} wall, ${ms(figure.db)} in the database`;
  console.error(`scale: ${String(size).padStart(7)}  ${name}: ${text}`);
}

const label = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

/** One row per command: wall and database times per size, and the growth factor smallest -> largest. */
function summarise(results, sizes) {
  const [first, last] = [sizes[0], sizes.at(-1)];
  return [...results].map(([name, bySize]) => {
    const a = bySize.get(first),
      b = bySize.get(last);
    const failed = a.failed || b.failed;
    const cells = sizes.map((n) => {
      const f = bySize.get(n);
      return f.failed ? `${label(n)} failed` : `${label(n)} ${f.wall.toFixed(0)}/${f.db.toFixed(0)}`;
    });
    const ratio = failed ? Number.NaN : b.wall / a.wall;
    const row = { name: `scale: ${name} (ms wall/db)`, median: failed ? null : b.wall, dbMs: failed ? null : b.db, ratio, display: cells.join('  '), target: 2 };
    if (name === 'stats --since 365d' && !failed && last >= 1e6) row.goal = { text: 'database < 300 ms at 1M', met: b.db < 300 };
    return row;
  });
}
