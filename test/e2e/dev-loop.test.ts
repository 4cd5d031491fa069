import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The developer loop through the built binary on the real engine: `fn new` then `fn run`,
 * with FAASCTL_DATABASE_URL pointing at a closed port, so any use of the database would fail
 * the command. One test deploys to a test database to compare `fn run` with `fn invoke`.
 */
const NO_DATABASE = 'postgres://nobody:nothing@127.0.0.1:1/none';

/** The functions this file runs: other files' `fn run` containers, running alongside, are theirs. */
const MINE = new Set(['hello', 'broken', 'raises', 'slow', 'forever', 'brief', 'envy', 'old', 'same']);

/** This file's `fn run` containers, by the function name each is labelled with. */
function runContainers(): string[] {
  const out = execFileSync('docker', ['ps', '-a', '--filter', 'label=io.faasctl.component=run', '--format', '{{.ID}} {{.Label "io.faasctl.function-name"}}'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([id, name]) => id && MINE.has(name ?? ''))
    .map(([id]) => id!);
}

describe('fn new and fn run through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dbEnv: Record<string, string | undefined>;
  let localEnv: Record<string, string | undefined>;
  const { dir, file } = scratchDir('faasctl-dev-');
  const run = (args: string[], input?: string) => runCli(['fn', 'run', ...args], { env: localEnv, input });

  beforeAll(async () => {
    // `up` builds the runtime image fn run uses; it needs a database, the runs below do not.
    db = await createTestDatabase(inject('databaseUrl'));
    const base = { FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' };
    dbEnv = isolatedEnv({ ...base, FAASCTL_DATABASE_URL: db.url });
    localEnv = isolatedEnv({ ...base, FAASCTL_DATABASE_URL: NO_DATABASE });
    const up = await runCli(['up'], { env: dbEnv, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
  });
  afterEach(() => {
    expect(runContainers()).toEqual([]);
  });
  afterAll(async () => {
    await runCli(['user', 'delete', '--force', '--yes'], { env: dbEnv }).catch(() => {});
    await runCli(['gc'], { env: dbEnv }).catch(() => {});
    await db?.drop();
  });

  it('fn new writes a skeleton and an input that fn run runs, and never overwrites them', async () => {
    const made = await runCli(['fn', 'new', 'hello', '--dir', dir], { env: localEnv });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout.split('\n').filter(Boolean)).toEqual([join(dir, 'hello.py'), join(dir, 'hello.input.json')]);
    expect(readFileSync(join(dir, 'hello.py'), 'utf8')).toContain('def main(data):');

    const r = await run([join(dir, 'hello.py'), '--data-file', join(dir, 'hello.input.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ greeting: 'hello, world', sum: 6 });
    expect(r.stderr).toBe('hello, world: adding 3 numbers\n');

    writeFileSync(join(dir, 'hello.py'), '# mine\n');
    const again = await runCli(['fn', 'new', 'hello', '--dir', dir], { env: localEnv });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toContain('hint:');
    expect(readFileSync(join(dir, 'hello.py'), 'utf8')).toBe('# mine\n');

    const bad = await runCli(['fn', 'new', 'Bad Name', '--dir', dir], { env: localEnv });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid function name');
  });

  it('reports a syntax error as file:line:col with exit 2, before running anything', async () => {
    const r = await run([file('broken.py', 'def main(data):\n    return (1 +\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: broken\.py:\d+:\d+: SyntaxError: /);
  });

  it('an exception exits 6 with the traceback; --json carries it too', async () => {
    const path = file('raises.py', 'def main(data):\n    print("about to fail")\n    raise ValueError("boom " + str(data["n"]))\n');
    const r = await run([path, '--data', '{"n": 7}']);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('about to fail\n');
    expect(r.stderr).toContain('the function raised ValueError: boom 7');
    expect(r.stderr).toMatch(/Traceback \(most recent call last\):[\s\S]*line 3, in main/);

    const j = await run([path, '--json'], '{"n": 8}');
    expect(j.code).toBe(6);
    expect(JSON.parse(j.stdout)).toMatchObject({ status: 'application_error', result: null, error: { type: 'ValueError', message: 'boom 8' } });
  });

  it('stops a function at its timeout with exit 124', async () => {
    const r = await run([file('slow.py', 'import time\ndef main(data):\n    time.sleep(60)\n'), '--timeout', '2s']);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain('timed out after 2 s');
  });

  it('removes the container on Ctrl-C and exits 130', async () => {
    const path = file('forever.py', 'import time\ndef main(data):\n    print("started", flush=True)\n    time.sleep(60)\n');
    const child = spawn(process.execPath, [BIN, 'fn', 'run', path], { env: { PATH: process.env.PATH, ...localEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const started = new Promise<void>((resolve) => child.stderr.on('data', (c: Buffer) => (stderr += c.toString()).includes('started') && resolve()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await started;
    expect(runContainers()).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('cancelled');
  });

  it('leaves gc the container of a run whose CLI was killed, once it ended and is 10 s old', async () => {
    const path = file('brief.py', 'import time\ndef main(data):\n    print("started", flush=True)\n    time.sleep(1)\n');
    const child = spawn(process.execPath, [BIN, 'fn', 'run', path], { env: { PATH: process.env.PATH, ...localEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = new Promise<void>((resolve) => child.stderr.on('data', (c: Buffer) => c.toString().includes('started') && resolve()));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await started;
    const createdAt = Date.now();
    child.kill('SIGKILL');
    await exited;
    const [orphan] = runContainers();
    expect(orphan).toBeDefined();
    const state = () => execFileSync('docker', ['inspect', '--format', '{{.State.Status}}', orphan!], { encoding: 'utf8' }).trim();
    await waitFor('the orphaned container to exit', () => state() !== 'running', 10_000, 200);
    expect(state()).toBe('exited');
    // Ended, but young: a live CLI may be about to read and remove it.
    const early = JSON.parse((await runCli(['gc', '--json'], { env: dbEnv })).stdout) as { containersRemoved: number };
    expect(early.containersRemoved).toBe(0);
    expect(runContainers()).toEqual([orphan]);
    // A deliberate wait: the point is gc's 10 s age threshold, measured from the container's start.
    await new Promise((r) => setTimeout(r, Math.max(0, createdAt + 10_500 - Date.now())));
    const late = JSON.parse((await runCli(['gc', '--json'], { env: dbEnv })).stdout) as { containersRemoved: number };
    // 1, or 0 when a gc of another test file running alongside took it first: any gc may.
    expect([0, 1]).toContain(late.containersRemoved);
    expect(runContainers()).toEqual([]);
  }, 60_000);

  it('passes --env and --entry, and runs the 2016 format', async () => {
    const r = await run([file('envy.py', 'import os\ndef go(data):\n    return os.environ["MODE"]\n'), '--entry', 'go', '--env', 'MODE=test']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe('test');
    const old = await run([file('old.py', 'def madhat_func(input_data, output_data):\n    output_data["x"] = input_data["v"] * 2\n'), '--data', '{"input_data": {"v": 4}, "output_data": {}}']);
    expect(old.code, old.stderr).toBe(0);
    expect(JSON.parse(old.stdout)).toEqual({ output_text: '', outputData: { x: 8 } });
  });

  it('answers exactly as fn invoke of the same file', async () => {
    // Its own names per run, so CI's retry of this test starts clean.
    const user = `dev-user-${process.hrtime.bigint() % 1_000_000n}`;
    expect((await runCli(['user', 'create', user, '--password-stdin'], { env: dbEnv, input: 'dev-user-pass' })).code).toBe(0);
    expect((await runCli(['login', user, '--password-stdin'], { env: dbEnv, input: 'dev-user-pass' })).code).toBe(0);
    const path = file('same.py', 'import sys\ndef main(data):\n    print("out", data)\n    print("err", file=sys.stderr)\n    return {"n": data["n"] * 3, "who": __name__}\n');
    const deployed = await runCli(['fn', 'deploy', path], { env: dbEnv });
    expect(deployed.code, deployed.stderr).toBe(0);
    const data = '{"n": 5}';
    const [invoked, ran] = await Promise.all([runCli(['fn', 'invoke', 'same', '--data', data], { env: dbEnv }), run([path, '--data', data])]);
    expect(invoked.code, invoked.stderr).toBe(0);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe(invoked.stdout);
    // The function's stdout and stderr are separate streams: their interleaving is the engine's.
    // fn invoke also names its request first (fn run has none).
    const lines = (text: string) =>
      text
        .split('\n')
        .filter((l) => !/^request [0-9a-f-]{36}: /.test(l))
        .sort();
    expect(lines(ran.stderr)).toEqual(lines(invoked.stderr));

    const [ij, rj] = await Promise.all([runCli(['fn', 'invoke', 'same', '--data', data, '--json'], { env: dbEnv }), run([path, '--data', data, '--json'])]);
    const strip = (o: Record<string, unknown>) => ({ status: o.status, result: o.result, error: o.error, outputTruncated: o.outputTruncated });
    expect(strip(JSON.parse(rj.stdout))).toEqual(strip(JSON.parse(ij.stdout)));
  });
});
