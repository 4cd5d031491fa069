import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, isolatedEnv, runCli, type CliResult, scratchDir } from '../helpers/cli.js';
import { BASE_IMAGE, CLUSTER_SCRIPT, MANAGER_HOST, REGISTRY, dockerOn, restartEngine, waitForNodeState } from '../helpers/cluster.js';
import { query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

const run = promisify(execFile);

/**
 * Issue 17, observations 3 and 4, on the 3-node cluster, whose manager engine (fcl-n1) may be
 * restarted (the host's dockerd never is): a graceful dockerd restart (SIGTERM, as `systemctl
 * restart docker` or a reboot does) in the middle of a cold invocation, and right before a
 * command when the platform's PostgreSQL runs as a Swarm service on that manager.
 */
const POSTGRES_IMAGE = process.env.FAASCTL_POSTGRES_IMAGE ?? 'faasctl/postgres:15-bookworm';
const nonce = randomUUID().slice(0, 8);

describe("an engine restart is the platform's fault, and nothing waits on it for ever", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-restart-');
  const cli = (args: string[], input?: string, e = env) => runCli(args, { env: e, input, timeoutMs: 240_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_HOST: MANAGER_HOST, FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: BASE_IMAGE });
    ok(await runCli(['up', '--registry', REGISTRY], { env, timeoutMs: 600_000 }));
    ok(await cli(['user', 'create', 'restart-user', '--password-stdin'], 'restart-pass'));
    ok(await cli(['login', 'restart-user', '--password-stdin'], 'restart-pass'));
    // On the manager: the engine restarted below is the one that runs it.
    const slow = file('slow.py', 'import time\n\ndef main(data):\n    time.sleep((data or {}).get("s", 0))\n    return "slept"\n');
    ok(await cli(['fn', 'deploy', slow, '--name', 'slow', '--constraint', 'node.role==manager']));
  }, 900_000);

  afterAll(async () => {
    try {
      await waitForNodeState(1, 'ready', 60_000).catch(() => {});
      await cli(['fn', 'delete', 'slow']).catch(() => {});
      await cli(['gc']).catch(() => {});
    } finally {
      await db?.drop();
    }
  }, 180_000);

  it('a cold invoke whose engine restarts ends system_error naming the cause, exit 8, with its service and input config removed', async () => {
    const child = spawn(process.execPath, [BIN, '--debug', 'fn', 'invoke', 'slow', '--cold', '--data', '{"s": 30}'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

    // Mid-run: the row is running and its task runs on the manager.
    const [row] = await until(
      async () =>
        (await query<{ id: string; service_id: string | null }>(db.url, "SELECT id, service_id FROM requests WHERE function_name = 'slow' AND status = 'running' AND service_id IS NOT NULL")).filter(
          Boolean,
        ),
      60_000,
    );
    await until(
      async () => ((await dockerOn(1, ['service', 'ps', row!.service_id!, '--filter', 'desired-state=running', '--format', '{{.CurrentState}}']).catch(() => '')).startsWith('Running') ? [true] : []),
      60_000,
    );
    await restartEngine(1);
    const code = await exited;

    console.log(
      `[path] ${/went away while watching/.test(stderr) ? `watcher rode out the engine (${/answers again after ([\d.]+ s)/.exec(stderr)?.[1]})` : 'runtime frame before the engine stopped'}`,
    );
    expect(code, stderr).toBe(8);
    // The runtime's own verdict ("stopped", when its frame survives) or the watcher's (the
    // engine went away and the task ended without a frame): the same cause either way.
    expect(stderr).toMatch(/error: slow@v1: the engine stopped the container mid-run (with SIGTERM )?\(engine restart, node drain or service removal\)/);
    expect(stderr).toMatch(/hint: the platform stopped it, not your code/);
    expect(stderr).not.toMatch(/swarm-init/);
    // Which path it takes is a race (has the frame left the engine before it stopped
    // answering?); when the engine went away first, the watcher said so and waited for it.
    if (!/FAASCTL-RESULT|stopped the container mid-run with SIGTERM/.test(stderr))
      expect(stderr).toMatch(/debug: \+\d+ms the engine at unix:\/\/.* went away while watching .*\n(.*\n)*debug: \+\d+ms the engine at unix:\/\/.* answers again after [\d.]+ s/);
    expect(stdout).toBe('');
    const [ended] = await query<{ status: string; error: string }>(db.url, 'SELECT status, error FROM requests WHERE id = $1', [row!.id]);
    expect(ended).toEqual({ status: 'system_error', error: expect.stringMatching(/the engine stopped the container mid-run/) });
    // Removed by the CLI itself, no gc.
    expect(await dockerOn(1, ['service', 'ls', '-q', '--filter', `label=io.faasctl.request=${row!.id}`])).toBe('');
    expect(await dockerOn(1, ['config', 'ls', '-q', '--filter', `label=io.faasctl.request=${row!.id}`])).toBe('');

    // The function works afterwards.
    await waitForNodeState(1, 'ready', 60_000);
    expect(JSON.parse(ok(await cli(['fn', 'invoke', 'slow', '--cold', '--data', '{"s": 0}'])).stdout)).toBe('slept');
  });

  it("a command run right after an engine restart waits for the platform's PostgreSQL service, then succeeds", async () => {
    // The platform's own PostgreSQL (no --db), on the manager. The CLI runs in the manager's
    // network namespace, as on the manager itself: the service publishes its port there.
    await run('bash', [CLUSTER_SCRIPT, 'load-image', POSTGRES_IMAGE], { timeout: 300_000 });
    const name = `fcl-pg-${nonce}`;
    const own = isolatedEnv({ FAASCTL_HOST: MANAGER_HOST, FAASCTL_BASE_IMAGE: BASE_IMAGE });
    const onManager = (args: string[], input?: string) => runOnManager(args, own, input);
    try {
      ok(await onManager(['up', '--registry', REGISTRY, '--postgres-image', POSTGRES_IMAGE, '--postgres-name', name, '--postgres-port', '25433']));
      ok(await onManager(['user', 'create', 'pg-user', '--password-stdin'], 'pg-user-pass'));

      await restartEngine(1);
      const listed = await onManager(['--debug', 'user', 'list']);
      console.log(`[wait] ${/answers after ([\d.]+ s)/.exec(listed.stderr)?.[1]}`);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/pg-user/);
      expect(listed.stderr).toMatch(new RegExp(`debug: \\+\\d+ms postgres: .*; the engine reports the service ${name}: waiting up to 60 s for it`));
      expect(listed.stderr).toMatch(new RegExp(`debug: \\+\\d+ms postgres: ${name} answers after [\\d.]+ s`));
      ok(await onManager(['doctor']));
    } finally {
      await dockerOn(1, ['service', 'rm', name]).catch(() => {});
      await dockerOn(1, ['secret', 'rm', `${name}-password`]).catch(() => {});
      for (let i = 0; i < 30; i++) {
        if (
          await dockerOn(1, ['volume', 'rm', `${name}-data`]).then(
            () => true,
            () => false,
          )
        )
          break;
        await sleep(1000);
      }
    }
  });
});

/** Polls until `probe` answers a non-empty list. */
async function until<T>(probe: () => Promise<T[]>, timeoutMs: number): Promise<T[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe().catch(() => [] as T[]);
    if (found.length) return found;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(200);
  }
}

/** The binary in the manager node's network namespace (its 127.0.0.1 is the manager's). */
function runOnManager(args: string[], env: Record<string, string | undefined>, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', ['--net=/run/netns/fcl-n1', process.execPath, BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}
