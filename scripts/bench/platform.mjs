// What the suites that need the platform share: a throwaway PostgreSQL (or FAASCTL_DATABASE_URL),
// `faasctl up`, a bench user logged in through a private config dir, the faasctl binary run as
// a child process, and a clean-up that also runs on Ctrl-C.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = join(root, 'bin', 'faasctl.cjs');
export const USER = 'bench';
const PASSWORD = 'faasctl-bench-password';
const CLI_TIMEOUT_MS = 120_000; // `up` may build the runtime image

/** Loaded on demand: the startup suite has no use for them. */
export const requireDep = (name) => createRequire(join(root, 'package.json'))(name);

// ------------------------------------------------------------------ throwaway PostgreSQL

function pgBin(name) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort().reverse() : [];
  const candidate = versions.map((v) => join(base, v, 'bin', name)).find((path) => existsSync(path));
  if (!candidate) throw new Error(`${name} not found: run bash scripts/testbed.sh up`);
  return candidate;
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** initdb refuses to run as root, so the cluster runs as the postgres user when we are root. */
function asPostgres(cmd, args) {
  const [file, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** As test/helpers/postgres.ts; returns { url, stop }. */
async function startPostgres(dir) {
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  execFileSync('sh', ['-c', `printf %s '${PASSWORD}' > ${dir}/pw && chmod 644 ${dir}/pw`]);
  asPostgres(pgBin('initdb'), ['-D', data, '-U', 'postgres', '--pwfile', `${dir}/pw`, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  asPostgres(pgBin('pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    stop: () => asPostgres(pgBin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']),
  };
}

// ------------------------------------------------------------------ faasctl

const elapsed = (started) => Number(process.hrtime.bigint() - started) / 1e6;

export function faasctl(env, args, input) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8', cwd: root, timeout: CLI_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status ?? r.signal, stdout: r.stdout, stderr: r.stderr, wall: elapsed(started) };
}

export function mustFaasctl(env, args, input, okCodes = [0]) {
  const r = faasctl(env, args, input);
  if (!okCodes.includes(r.status)) throw new Error(`faasctl ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r;
}

/** As faasctl(), without blocking the event loop: several can run at once. */
export function faasctlAsync(env, args) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ status: code ?? signal, stdout, stderr, wall: elapsed(started) }));
  });
}

/** A whole non-follow logs answer (multiplexed frames) as text: 1 stdout, 2 stderr. */
export function demux(bytes, stream = 1) {
  const parts = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at + 4);
    if (bytes[at] === stream) parts.push(bytes.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

// ------------------------------------------------------------------ the platform

/**
 * Runs `body(platform)` against a ready platform: faasctl up, the bench user created and
 * logged in (a private XDG_CONFIG_HOME). `platform.atExit(fn)` registers clean-up that runs
 * (last registered first) when the body ends, fails, or Ctrl-C arrives.
 */
export async function withPlatform(tag, body) {
  const runLabel = randomBytes(3).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'faasctl-bench-'));
  const exits = [];
  let pg;
  let done;
  const cleanUp = () =>
    (done ??= (async () => {
      for (const fn of exits.reverse()) {
        await Promise.resolve()
          .then(fn)
          .catch((err) => console.error(`bench ${tag}: clean-up failed: ${err.message}`));
      }
      try {
        pg?.stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  // pg_ctl daemonises PostgreSQL: without this, Ctrl-C would leave it (and services) running.
  const onSignal = () => cleanUp().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    if (!process.env.FAASCTL_DATABASE_URL) pg = await startPostgres(dir);
    const env = {
      ...process.env,
      XDG_CONFIG_HOME: join(dir, 'config'),
      FAASCTL_DATABASE_URL: process.env.FAASCTL_DATABASE_URL ?? pg.url,
      FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm',
      NO_COLOR: '1',
    };
    mustFaasctl(env, ['up']);
    // 3: the user already exists (a reused FAASCTL_DATABASE_URL); the fixed password still logs in.
    mustFaasctl(env, ['user', 'create', USER, '--password-stdin'], PASSWORD, [0, 3]);
    mustFaasctl(env, ['login', USER, '--password-stdin'], PASSWORD);
    return await body({ env, dir, runLabel, atExit: (fn) => exits.push(fn) });
  } finally {
    await cleanUp();
    process.removeListener('SIGINT', onSignal);
  }
}
