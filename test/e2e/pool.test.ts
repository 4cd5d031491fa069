import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { startCli } from '../helpers/background-cli.js';
import { query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The sandbox pool (issue 23) through the built binary, on the real Swarm and PostgreSQL:
 * `up --pool`, cold invocations through it (each in a fresh container that then exits), the
 * fallback to a service, limits in pool mode, resize and drain, and a CLI killed holding a claim.
 */
describe('the sandbox pool', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-pool-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 120_000 });
  const rows = (sql: string, params: unknown[] = []) => query(db.url, sql, params);
  const deploy = async (name: string, code: string, ...flags: string[]) => {
    const r = await cli(['fn', 'deploy', file(`${name}.py`, code), '--no-import-check', ...flags]);
    expect(r.code, r.stderr).toBe(0);
  };
  const invokeJson = async (...args: string[]) => {
    const r = await cli(['--json', 'fn', 'invoke', ...args]);
    return { ...r, json: JSON.parse(r.stdout) as Record<string, unknown> };
  };
  const containerState = (id: string) => execFileSync('docker', ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id], { encoding: 'utf8' }).trim();
  const poolShow = async () => JSON.parse((await cli(['--json', 'pool', 'show'])).stdout) as Array<Record<string, number | string>>;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up', '--pool', '2'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    expect((await cli(['user', 'create', 'pool-user', '--password-stdin'], 'pool-user-pass')).code).toBe(0);
    expect((await cli(['login', 'pool-user', '--password-stdin'], 'pool-user-pass')).code).toBe(0);
    await deploy('hello', 'def main(data):\n    print("hi from", data["who"])\n    return {"hello": data["who"]}\n');
  });
  afterAll(async () => {
    await cli(['pool', 'drain']);
  });

  it('runs each cold invocation in its own pool container, which then exits', async () => {
    const first = await invokeJson('hello', '--data', '{"who": "a"}');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({ mode: 'pool', status: 'success', result: { hello: 'a' } });
    const second = await invokeJson('hello', '--data', '{"who": "b"}');
    expect(second.json).toMatchObject({ mode: 'pool', result: { hello: 'b' } });
    expect(second.json.container).not.toEqual(first.json.container);
    for (const c of [first.json.container, second.json.container] as string[]) {
      await waitFor(`container ${c} to exit`, () => containerState(c) === 'exited 0');
    }
    const recorded = await rows("SELECT mode, pool_task, output, status FROM requests WHERE type = 'fn.invoke' AND id = $1", [first.json.requestId]);
    expect(recorded[0]).toMatchObject({ mode: 'pool', output: 'hi from a\n', status: 'success' });
    expect(String(recorded[0]!.pool_task)).toContain(first.json.container as string);
    // A finished job's claim stays a moment (its container still listed running), never unsent.
    expect(await rows('SELECT * FROM pool_claims WHERE NOT job_sent')).toEqual([]);
  });

  it('runs as a service with --isolation service, and when the version fits no pool', async () => {
    const forced = await invokeJson('hello', '--data', '{"who": "c"}', '--isolation', 'service');
    expect(forced.json).toMatchObject({ mode: 'cold', result: { hello: 'c' } });
    await deploy('byservice', 'def main(data):\n    return 2\n', '--isolation', 'service');
    expect((await invokeJson('byservice')).json).toMatchObject({ mode: 'cold', result: 2 });
    // A bulk deploy takes --isolation for each function it makes, as a single deploy does.
    const bulk = await cli(['fn', 'deploy', file('many.py', 'def main(data):\n    return 3\n'), '--no-import-check', '--bulk', '2', '--prefix', 'many', '--isolation', 'service']);
    expect(bulk.code, bulk.stderr).toBe(0);
    expect(await rows("SELECT name, isolation FROM functions WHERE name LIKE 'many%' ORDER BY name")).toEqual([
      { name: 'many1', isolation: 'service' },
      { name: 'many2', isolation: 'service' },
    ]);
    await deploy('big', 'def main(data):\n    return 1\n', '--memory', '128m');
    const unfit = await invokeJson('big');
    expect(unfit.json).toMatchObject({ mode: 'cold', result: 1 });
    const refused = await cli(['fn', 'invoke', 'big', '--isolation', 'pool']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no sandbox pool of big's class \(m128-c1000\)/);
  });

  it('holds the memory and process limits in pool mode', async () => {
    await waitFor('the pool to be whole again', async () => (await poolShow())[0]?.idle === 2);
    await deploy('hog', 'def main(data):\n    chunks = []\n    while True:\n        chunks.append(bytearray(8 * 1024 * 1024))\n');
    const hog = await invokeJson('hog');
    expect(hog.code).toBe(6);
    expect(hog.json).toMatchObject({ mode: 'pool', status: 'developer_error' });
    expect(JSON.stringify(hog.json.error)).toMatch(/out of memory/i);
    await deploy('forkbomb', 'import os\ndef main(data):\n    while True:\n        os.fork()\n', '--timeout', '10s');
    const bomb = await invokeJson('forkbomb');
    expect(bomb.code).toBe(6);
    expect(bomb.json).toMatchObject({ mode: 'pool', status: 'application_error' });
    expect(JSON.stringify(bomb.json.error)).toMatch(/limit of \d+ processes/);
  });

  it('leaves nothing open when a CLI is killed holding a claim', async () => {
    // The containers the limit tests used are replaced only once they exit (2 s after their job).
    await waitFor('the pool to be whole again', async () => (await poolShow())[0]?.idle === 2);
    const held = startCli(['fn', 'invoke', 'hello', '--data', '{"who": "k"}'], { ...env, FAASCTL_FAILPOINT: 'pool:claimed' });
    await waitFor('the claim', () => held.stderr().includes('failpoint pool:claimed reached'));
    held.signal('SIGKILL');
    await held.done;
    expect(await rows('SELECT * FROM pool_claims WHERE NOT job_sent')).toHaveLength(1);
    // The claim holds its container for a few seconds (the time a live CLI needs to send the job).
    await waitFor('gc to give the claim back', async () => {
      const gc = await cli(['--json', 'gc']);
      return (await rows('SELECT * FROM pool_claims WHERE NOT job_sent')).length === 0 && gc.code === 0;
    });
    expect(await rows("SELECT id FROM requests WHERE status IN ('pending', 'running')")).toEqual([]);
    const [closed] = await rows("SELECT status, mode, error FROM requests WHERE params->'input'->>'who' = 'k'");
    expect(closed).toMatchObject({ status: 'system_error', mode: 'pool' });
    await waitFor('the pool to be whole again', async () => (await poolShow())[0]?.idle === 2);
  });

  it('a CLI killed mid-job: the job ends anyway and request wait gives its own answer; Ctrl-C cancels it', async () => {
    await deploy('slowpool', 'import time\ndef main(data):\n    print("working", flush=True)\n    time.sleep(2)\n    return {"done": data["n"]}\n');
    await waitFor('the pool to be whole again', async () => (await poolShow())[0]?.idle === 2);
    const killed = startCli(['fn', 'invoke', 'slowpool', '--data', '{"n": 7}'], env);
    await waitFor('the job to run', () => killed.stderr().includes('working'));
    killed.signal('SIGKILL');
    const id = /request ([0-9a-f-]{36})/.exec((await killed.done).stderr)![1]!;
    // Not at its deadline (2 s + 30 s + grace): as soon as the container's log has the answer.
    const waited = await cli(['--json', 'request', 'wait', id]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ requestId: id, mode: 'pool', status: 'success', result: { done: 7 } });
    const [row] = await rows('SELECT status, output, pool_task FROM requests WHERE id = $1', [id]);
    expect(row).toMatchObject({ status: 'success', output: 'working\n' });

    const interrupted = startCli(['fn', 'invoke', 'slowpool', '--data', '{"n": 8}'], env);
    await waitFor('the job to run', () => interrupted.stderr().includes('working'));
    interrupted.signal('SIGINT');
    expect((await interrupted.done).code).toBe(130);
    const [cancelled] = await rows("SELECT status, error, pool_task FROM requests WHERE params->'input'->>'n' = '8'");
    expect(cancelled).toMatchObject({ status: 'system_error', error: expect.stringMatching(/cancelled before the function answered/) });
    // The container was told: it stopped the job, its log ends with a stopped run, not a result.
    const task = String(cancelled!.pool_task).split('/')[0]!;
    const log = execFileSync('docker', ['service', 'logs', '--raw', task], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(log).toMatch(/"status":\s*"stopped"/);
    expect(log).not.toMatch(/"done":\s*8/);

    // request cancel from another process: the row closes and the container stops the job.
    await deploy('longpool', 'import time\ndef main(data):\n    print("long", flush=True)\n    time.sleep(60)\n    return {"done": True}\n');
    await waitFor('the pool to be whole again', async () => (await poolShow())[0]?.idle === 2);
    const running = startCli(['fn', 'invoke', 'longpool'], env);
    await waitFor('the job to run', () => running.stderr().includes('long'));
    const runningId = /request ([0-9a-f-]{36})/.exec(running.stderr())![1]!;
    const cancel = await cli(['request', 'cancel', runningId]);
    expect(cancel.code, cancel.stderr).toBe(0);
    // Its CLI sees the job stopped (not after 60 s) and reports the cancel the row records.
    const ended = await running.done;
    expect(ended.code).not.toBe(0);
    expect(ended.stderr).toMatch(/cancelled by pool-user \(faasctl request cancel\)/);
    const [longRow] = await rows('SELECT status, pool_task FROM requests WHERE id = $1', [runningId]);
    expect(longRow).toMatchObject({ status: 'system_error' });
    const longLog = execFileSync('docker', ['service', 'logs', '--raw', String(longRow!.pool_task).split('/')[0]!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(longLog).toMatch(/"status":\s*"stopped"/);

    // fn delete --force while a pool job of the function runs: the same, and the function is gone.
    await waitFor('the pool to be whole again', async () => (await poolShow())[0]?.idle === 2);
    const doomed = startCli(['fn', 'invoke', 'longpool'], env);
    await waitFor('the job to run', () => doomed.stderr().includes('long'));
    const doomedId = /request ([0-9a-f-]{36})/.exec(doomed.stderr())![1]!;
    const deleted = await cli(['fn', 'delete', 'longpool', '--force']);
    expect(deleted.code, deleted.stderr).toBe(0);
    const doomedEnd = await doomed.done;
    expect(doomedEnd.code).not.toBe(0);
    expect(doomedEnd.stderr).toMatch(/its function longpool was deleted \(fn delete --force\) while it ran/);
    const [doomedRow] = await rows('SELECT status, pool_task FROM requests WHERE id = $1', [doomedId]);
    expect(doomedRow).toMatchObject({ status: 'system_error' });
    const doomedLog = execFileSync('docker', ['service', 'logs', '--raw', String(doomedRow!.pool_task).split('/')[0]!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(doomedLog).toMatch(/"status":\s*"stopped"/);
    expect(await rows("SELECT id FROM functions WHERE name = 'longpool'")).toEqual([]);
  });

  it('after an upgrade (another runtime image), up makes the pool again with the current one', async () => {
    await waitFor('the pool to be whole again', async () => (await poolShow())[0]?.idle === 2);
    const installation = String((await rows("SELECT value FROM faasctl_meta WHERE key = 'installation_id'"))[0]!.value);
    const service = () =>
      JSON.parse(
        execFileSync('docker', ['service', 'ls', '--filter', `label=io.faasctl.installation=${installation}`, '--filter', 'label=io.faasctl.component=pool', '--format', '{{json .}}'], {
          encoding: 'utf8',
        }).trim(),
      ) as {
        ID: string;
        Image: string;
      };
    const current = service().Image.split('@')[0]!;
    // What an older faasctl left: the same pool on another image (here a second tag of this one).
    const older = `${current.split(':')[0]}:e2e-older-${installation.slice(0, 8)}`;
    execFileSync('docker', ['tag', current, older]);
    try {
      execFileSync('docker', ['service', 'update', '--quiet', '--no-resolve-image', '--image', older, service().ID], { stdio: 'ignore' });
      expect(service().Image.split('@')[0]).toBe(older);
      const up = await runCli(['up'], { env, timeoutMs: 300_000 });
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toMatch(/sandbox pool\s+updated\s+m256-c1000: made again with/);
      expect(service().Image.split('@')[0]).toBe(current);
      expect((await poolShow())[0]).toMatchObject({ size: 2, idle: 2 });
      expect((await invokeJson('hello', '--data', '{"who": "u"}')).json).toMatchObject({ mode: 'pool', result: { hello: 'u' } });
      // Current already: up leaves the pool alone.
      const again = await runCli(['up'], { env, timeoutMs: 300_000 });
      expect(again.stdout).not.toContain('sandbox pool');
    } finally {
      execFileSync('docker', ['rmi', older], { stdio: 'ignore' });
    }
  });

  it('resizes and drains', async () => {
    const grown = JSON.parse((await cli(['--json', 'pool', 'resize', '3'])).stdout) as Array<Record<string, unknown>>;
    expect(grown).toEqual([expect.objectContaining({ class: 'm256-c1000', size: 3 })]);
    const shown = await poolShow();
    expect(shown[0]).toMatchObject({ class: 'm256-c1000', size: 3 });
    expect(Number(shown[0]!.idleMemoryBytes)).toBeGreaterThan(1024 * 1024);
    const drained = await cli(['--json', 'pool', 'drain']);
    expect(JSON.parse(drained.stdout)).toEqual({ drained: 1 });
    expect(await poolShow()).toEqual([]);
    const after = await invokeJson('hello', '--data', '{"who": "d"}');
    expect(after.json).toMatchObject({ mode: 'cold', result: { hello: 'd' } });
  });
});
