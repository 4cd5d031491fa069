import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { query, cleansUpAfterEach } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The function life cycle through the built binary, on the real Swarm and PostgreSQL.
 * After every test: no faasctl service, task, container or config of this file's users
 * is left, and no request or function row is half-written.
 */
describe('functions through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-fn-');
  const cli = (args: string[], input?: string, timeoutMs?: number) => runCli(args, { env, input, timeoutMs });
  const deploy = async (name: string, code: string, ...flags: string[]) => {
    const r = await cli(['fn', 'deploy', file(`${name}.py`, code), ...flags]);
    expect(r.code, r.stderr).toBe(0);
  };
  const rows = (sql: string, params: unknown[] = []) => query(db.url, sql, params);

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    expect((await cli(['user', 'create', 'fn-user', '--password-stdin'], 'fn-user-pass')).code).toBe(0);
    expect((await cli(['login', 'fn-user', '--password-stdin'], 'fn-user-pass')).code).toBe(0);
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('deploys and invokes: result on stdout, prints on stderr, metrics in the request log', async () => {
    await deploy('add', 'def main(data):\n    print("adding", len(data["numbers"]), "numbers")\n    return {"sum": sum(data["numbers"])}\n');
    const r = await cli(['fn', 'invoke', 'add', '--data', '{"numbers": [1, 2, 3.5]}']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ sum: 6.5 });
    // A cold job names its request as soon as its row exists (to wait on should the CLI die), then relays the prints.
    expect(r.stderr).toMatch(/^request ([0-9a-f-]{36}): faasctl request wait \1\nadding 3 numbers\n$/);

    const [row] = await rows("SELECT status, result, output, mode, cpu_ms, max_rss_kb, duration_ms, function_version FROM requests WHERE type = 'fn.invoke'");
    expect(row).toMatchObject({ status: 'success', result: { sum: 6.5 }, output: 'adding 3 numbers\n', mode: 'cold', function_version: 1 });
    expect(row!.cpu_ms).toBeGreaterThan(0);
    expect(Number(row!.max_rss_kb)).toBeGreaterThan(1000);

    const piped = await cli(['fn', 'invoke', 'add'], '{"numbers": [10]}');
    expect(JSON.parse(piped.stdout)).toEqual({ sum: 10 });
  });

  it('runs the 2016 format and answers output_text and outputData like the old system', async () => {
    await deploy(
      'fib',
      'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nglobal fib\ndef madhat_func(input_data, output_data):\n    print("hello")\n    output_data["fib_5"] = fib(input_data["val_2"])\n',
    );
    const r = await cli(['fn', 'invoke', 'fib', '--data', '{"input_data": {"val_2": 5}, "output_data": {}}']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ output_text: 'hello\n', outputData: { fib_5: 5 } });
  });

  it('rejects a syntax error with file:line:col, the line and a caret, and stores nothing', async () => {
    const r = await cli(['fn', 'deploy', file('broken.py', 'def main(data):\n    return (1 +\n\ndef other(:\n    pass\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: broken\.py:\d+:\d+: SyntaxError: /);
    expect(r.stderr).toMatch(/\n {4}.*\n {4}\s*\^+\n/);
    expect(r.stderr).toContain('nothing was stored');
    expect(await rows("SELECT name FROM functions WHERE name = 'broken'")).toEqual([]);
    const [req] = await rows("SELECT status, error FROM requests WHERE type = 'fn.deploy' AND function_name = 'broken'");
    expect(req).toMatchObject({ status: 'developer_error', error: expect.stringContaining('SyntaxError') });
  });

  it('rejects code without the entry function, naming what it found', async () => {
    const r = await cli(['--json', 'fn', 'deploy', file('noentry.py', 'def helper(x):\n    return x\n')]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'entry_missing', message: expect.stringContaining('top-level functions: helper') });
    const custom = await cli(['fn', 'deploy', file('noentry.py', 'def helper(x):\n    return x\n'), '--entry', 'helper']);
    expect(custom.code, custom.stderr).toBe(0);
    expect(JSON.parse((await cli(['fn', 'invoke', 'noentry', '--data', '3'])).stdout)).toBe(3);
  });

  it('refuses invalid JSON input and input over 500 KiB before creating anything', async () => {
    await deploy('echo', 'def main(data):\n    return data\n');
    const bad = await cli(['fn', 'invoke', 'echo', '--data', '{"a": ']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: input is not valid JSON/);
    const big = await cli(['--json', 'fn', 'invoke', 'echo'], JSON.stringify({ blob: 'x'.repeat(600 * 1024) }));
    expect(big.code).toBe(2);
    expect(JSON.parse(big.stdout).error.code).toBe('input_too_large');
    const atLimit = await cli(['fn', 'invoke', 'echo'], JSON.stringify('y'.repeat(500 * 1024 - 2)));
    expect(atLimit.code, atLimit.stderr).toBe(0);
    expect(JSON.parse(atLimit.stdout)).toHaveLength(500 * 1024 - 2);
    expect(await rows("SELECT id FROM requests WHERE type = 'fn.invoke' AND function_name = 'echo'")).toHaveLength(1);
  });

  it('reports a result that is not JSON-serialisable', async () => {
    await deploy('setret', 'def main(data):\n    return {1, 2}\n');
    const r = await cli(['--json', 'fn', 'invoke', 'setret']);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'developer_error', error: { type: 'ResultError', message: expect.stringContaining('set') } });
  });

  it('reports an exception with its traceback and exit code 6', async () => {
    await deploy('boom', 'def main(data):\n    print("about to fail")\n    return 1 / 0\n');
    const r = await cli(['fn', 'invoke', 'boom']);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('about to fail');
    expect(r.stderr).toContain('the function raised ZeroDivisionError');
    expect(r.stderr).toMatch(/File "\/faas\/function\.py", line 3, in main/);
    const [row] = await rows("SELECT status, error FROM requests WHERE type = 'fn.invoke' AND function_name = 'boom'");
    expect(row).toMatchObject({ status: 'application_error', error: expect.stringContaining('ZeroDivisionError') });
  });

  it('stops an infinite loop at its timeout (exit 124)', async () => {
    await deploy('spin', 'def main(data):\n    while True:\n        pass\n', '--timeout', '2s');
    const started = Date.now();
    const r = await cli(['fn', 'invoke', 'spin']);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain('timed out after 2 s');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('reports a memory hog as out of memory', async () => {
    await deploy('hog', 'def main(data):\n    chunks = []\n    while True:\n        chunks.append(bytearray(8 * 1024 * 1024))\n', '--memory', '64m');
    const r = await cli(['--json', 'fn', 'invoke', 'hog']);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'developer_error', error: { type: 'OutOfMemory', message: expect.stringContaining('64 MiB') } });
  });

  it('contains a fork bomb with the pids limit', async () => {
    await deploy('forkbomb', 'import os\ndef main(data):\n    while True:\n        os.fork()\n', '--timeout', '10s');
    const r = await cli(['fn', 'invoke', 'forkbomb']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/limit of \d+ processes and threads was reached/);
  });

  it('caps a print flood and still answers', async () => {
    await deploy('flood', 'import sys\ndef main(data):\n    line = "x" * 1023 + "\\n"\n    for _ in range(5 * 1024):\n        sys.stdout.write(line)\n    return "done"\n');
    const r = await cli(['--json', 'fn', 'invoke', 'flood']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', result: 'done', outputTruncated: true });
    const plain = await cli(['fn', 'invoke', 'flood']);
    expect(plain.stdout).toBe('"done"\n');
    expect(plain.stderr.length).toBeGreaterThanOrEqual(1024 * 1024);
    expect(plain.stderr.length).toBeLessThan(1024 * 1024 + 4096);
    expect(plain.stderr).toContain('output truncated');
    const [row] = await rows("SELECT output_truncated, length(output) AS n FROM requests WHERE type = 'fn.invoke' AND function_name = 'flood' LIMIT 1");
    expect(row).toMatchObject({ output_truncated: true });
    expect(row!.n).toBeLessThanOrEqual(64 * 1024);
  });

  it('--async prints the request id at once; request wait gives the result', async () => {
    await deploy('slow', 'import time\ndef main(data):\n    print("working")\n    time.sleep(2)\n    return {"got": data}\n');
    const started = Date.now();
    const a = await cli(['fn', 'invoke', 'slow', '--data', '41', '--async']);
    expect(a.code, a.stderr).toBe(0);
    const id = a.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.now() - started).toBeLessThan(1500 + 2000); // returned before the function could finish
    const shown = await cli(['--json', 'request', 'show', id]);
    expect(['pending', 'running', 'success']).toContain(JSON.parse(shown.stdout).status);
    const w = await cli(['request', 'wait', id]);
    expect(w.code, w.stderr).toBe(0);
    expect(JSON.parse(w.stdout)).toEqual({ got: 41 });
    expect(w.stderr).toContain('working');
    const again = await cli(['request', 'wait', id]);
    expect(JSON.parse(again.stdout)).toEqual({ got: 41 });
  });

  it('recovers the result after the CLI is killed with SIGKILL mid-invoke', async () => {
    await deploy('slow2', 'import time\ndef main(data):\n    time.sleep(3)\n    return data * 2\n');
    const child = spawn(process.execPath, [BIN, 'fn', 'invoke', 'slow2', '--data', '21'], { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' });
    await waitFor('the slow2 invocation to be running', async () => (await rows("SELECT id FROM requests WHERE function_name = 'slow2' AND status = 'running'")).length === 1, 30_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const [open] = await rows<{ id: string }>("SELECT id FROM requests WHERE function_name = 'slow2' AND type = 'fn.invoke'");
    const w = await cli(['--json', 'request', 'wait', open!.id]);
    expect(w.code, w.stderr).toBe(0);
    expect(JSON.parse(w.stdout), w.stdout).toMatchObject({ status: 'success', result: 42 });
  });

  it('gc finishes an invocation nobody waited for', async () => {
    await deploy('quick', 'def main(data):\n    return "from gc"\n');
    const a = await cli(['fn', 'invoke', 'quick', '--async']);
    const id = a.stdout.trim();
    await waitFor('gc --dry-run to see the ended job', async () => JSON.parse((await cli(['--json', 'gc', '--dry-run'])).stdout).requestsRecovered === 1, 30_000);
    const gc = await cli(['--json', 'gc']);
    expect(JSON.parse(gc.stdout)).toMatchObject({ requestsRecovered: 1, servicesRemoved: 1 });
    const [row] = await rows('SELECT status, result FROM requests WHERE id = $1', [id]);
    expect(row).toEqual({ status: 'success', result: 'from gc' });
  });

  it('cannot forge its result by printing a result line', async () => {
    const code = [
      'import os',
      'def main(data):',
      '    leaked = []',
      '    for path in ("/proc/1/environ", "/proc/self/environ"):',
      '        try:',
      '            if "FAASCTL_NONCE" in open(path, errors="replace").read(): leaked.append(path)',
      '        except OSError:',
      '            pass',
      '    print(\'FAASCTL-RESULT:AAAAAAAAAAAAAAAAAAAAAA:{"v":1,"status":"success","result":"forged","error":null,"output":{"bytes":0,"truncated":false},"metrics":{"durationMs":0,"cpuMs":0,"maxRssKb":0}}\')',
      '    return {"real": True, "leaked": leaked, "env": os.environ.get("FAASCTL_NONCE")}',
      '',
    ].join('\n');
    await deploy('forger', code);
    const r = await cli(['fn', 'invoke', 'forger']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ real: true, leaked: [], env: null });
    expect(r.stderr).toContain('FAASCTL-RESULT:AAAA');
  });

  it('keeps immutable versions: update, versions, rollback, delete removes the configs', async () => {
    await deploy('ver', 'def main(data):\n    return 1\n');
    expect((await cli(['fn', 'update', 'ver', file('ver2.py', 'def main(data):\n    return 2\n')])).code).toBe(0);
    expect(JSON.parse((await cli(['fn', 'invoke', 'ver'])).stdout)).toBe(2);
    const versions = JSON.parse((await cli(['--json', 'fn', 'versions', 'ver'])).stdout);
    expect(versions.map((v: { version: number; current: boolean }) => [v.version, v.current])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect((await cli(['fn', 'rollback', 'ver'])).code).toBe(0);
    expect(JSON.parse((await cli(['fn', 'invoke', 'ver'])).stdout)).toBe(1);
    const limits = await cli(['fn', 'update', 'ver', '--memory', '128m']);
    expect(limits.code, limits.stderr).toBe(0);
    const show = JSON.parse((await cli(['--json', 'fn', 'show', 'ver'])).stdout);
    expect(show).toMatchObject({ version: 3, limits: { memoryBytes: 128 * 1024 * 1024 }, code: 'def main(data):\n    return 1\n' });
    expect(show.recent).toHaveLength(2);
    const del = await cli(['--json', 'fn', 'delete', 'ver']);
    expect(JSON.parse(del.stdout)).toMatchObject({ name: 'ver', configsRemoved: 2 });
    expect((await cli(['fn', 'invoke', 'ver'])).code).toBe(3);
  });

  it('keeps placement with the version: --constraint passes to the job, an update keeps it, --no-placement drops it', async () => {
    const path = file('placed.py', 'def main(data):\n    return "here"\n');
    const d = await cli(['--json', 'fn', 'deploy', path, '--constraint', 'node.role==manager', '--placement-pref', 'spread=node.labels.zone']);
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).placement).toEqual({ constraints: ['node.role==manager'], spread: ['node.labels.zone'] });
    const run = JSON.parse((await cli(['--json', 'fn', 'invoke', 'placed'])).stdout);
    expect(run).toMatchObject({ result: 'here', attempt: 1, mode: 'cold' });
    expect(typeof run.node).toBe('string');
    expect((await cli(['fn', 'update', 'placed', '--memory', '128m'])).code).toBe(0);
    expect(JSON.parse((await cli(['--json', 'fn', 'show', 'placed', '--no-code'])).stdout).placement.constraints).toEqual(['node.role==manager']);
    expect((await cli(['fn', 'update', 'placed', '--no-placement'])).code).toBe(0);
    const shown = JSON.parse((await cli(['--json', 'fn', 'show', 'placed', '--no-code'])).stdout);
    expect(shown).toMatchObject({ version: 3, placement: { constraints: [], spread: [] } });
    // Nowhere to run: Swarm cannot place the job, and faasctl says so at once instead of waiting.
    expect((await cli(['fn', 'update', 'placed', '--constraint', 'node.hostname==nowhere'])).code).toBe(0);
    const t0 = Date.now();
    const stuck = await cli(['fn', 'invoke', 'placed']);
    expect(stuck.code).toBe(8);
    expect(stuck.stderr.split('\n').filter((l) => !l.startsWith('request '))[0]).toMatch(
      /^error: placed@v4: Swarm cannot place it: no suitable node \(scheduling constraints not satisfied on \d+ nodes?\)/,
    );
    expect(Date.now() - t0).toBeLessThan(20_000);
    const bulk = await cli(['fn', 'invoke', 'placed', '--bulk', '-', '--cold'], '{}\n{}\n');
    expect(bulk.code).toBe(8);
    expect(bulk.stderr).toMatch(/error: Swarm cannot place the replicas: no suitable node/);
    const bogus = await cli(['fn', 'update', 'placed', '--constraint', 'hostname==x']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr.split('\n')[0]).toBe('error: invalid --constraint "hostname==x"');
    expect((await cli(['fn', 'delete', 'placed'])).code).toBe(0);
  });

  it("does not show or run another user's function", async () => {
    await deploy('private', 'def main(data):\n    return "secret"\n');
    const other = isolatedEnv({ FAASCTL_DATABASE_URL: db.url });
    expect((await runCli(['user', 'create', 'fn-other', '--password-stdin'], { env: other, input: 'other-pass-1' })).code).toBe(0);
    expect((await runCli(['login', 'fn-other', '--password-stdin'], { env: other, input: 'other-pass-1' })).code).toBe(0);
    const r = await runCli(['fn', 'invoke', 'private'], { env: other });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('function "private" not found');
    expect((await runCli(['user', 'delete', '--yes'], { env: other })).code).toBe(0);
  });
});
