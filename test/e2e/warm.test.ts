import { spawn } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, isolatedEnv, runCli, type CliResult, scratchDir } from '../helpers/cli.js';
import { leftovers, NONE, query, cleansUpAfterEach } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const EXAMPLES = resolve(import.meta.dirname, '../../examples');
/** Replicas publish on their node's address; the test bed is one node on this host. */
const NODE_ADDRESS = '127.0.0.1';

interface Answer {
  index: number;
  status: string;
  result: unknown;
  error: unknown;
  durationMs: number | null;
  latencyMs: number;
  attempts: number;
}

interface SwarmTask {
  ID: string;
  ServiceID: string;
  DesiredState: string;
  Status: { State: string; ContainerStatus?: { ContainerID?: string }; PortStatus?: { Ports?: Array<{ TargetPort: number; PublishedPort: number }> } };
}

/**
 * Warm functions and bulk invocations through the built binary, on the real Swarm and
 * PostgreSQL: warm answers match cold ones, replicas demand their token, scaling converges,
 * a new version rolls without failing a request, a killed replica loses no input, and a
 * cold bulk run uses one service. After every test nothing of this file's installation is
 * left: no warm service of a cold function, no bulk service, no unused token secret.
 */
describe('warm functions and bulk invocations through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  let installation: string;
  const { dir, file } = scratchDir('faasctl-warm-');
  const jsonl = (name: string, inputs: unknown[]) => file(name, `${inputs.map((i) => JSON.stringify(i)).join('\n')}\n`);
  const cli = (args: string[], input?: string, timeoutMs?: number) => runCli(args, { env, input, timeoutMs });
  /** fn deploy after removing what an earlier try of the same test left (CI retries a failed test once). */
  const deployFresh = async (args: string[]) => {
    const named = args.indexOf('--name');
    const name = named >= 0 ? args[named + 1]! : basename(args[0]!, '.py');
    await cli(['fn', 'delete', name]);
    return cli(['fn', 'deploy', ...args]);
  };
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => query<T>(db.url, sql, params);
  const functionId = async (name: string) => (await rows<{ id: string }>('SELECT id FROM functions WHERE name = $1', [name]))[0]!.id;
  const answers = (stdout: string) =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Answer);

  /** The function's warm service, found by its labels; undefined when it has none. */
  const warmServiceOf = async (name: string) => {
    const id = await functionId(name);
    const labels = [`io.faasctl.installation=${installation}`, 'io.faasctl.component=warm', `io.faasctl.function=${id}`];
    const services = await docker.listServices({ filters: JSON.stringify({ label: labels }) } as object);
    expect(services.length).toBeLessThanOrEqual(1);
    return services[0];
  };
  const runningTasks = async (serviceId: string) => {
    const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [serviceId], 'desired-state': ['running'] }) } as object)) as unknown as SwarmTask[];
    return tasks.filter((t) => t.Status.State === 'running');
  };
  const tokenSecretsOf = async (fnId: string) =>
    docker.listSecrets({ filters: JSON.stringify({ label: [`io.faasctl.installation=${installation}`, 'io.faasctl.component=token', `io.faasctl.function=${fnId}`] }) });

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'warm-user', '--password-stdin'], 'warm-user-pass'));
    ok(await cli(['login', 'warm-user', '--password-stdin'], 'warm-user-pass'));
    installation = (await rows<{ value: string }>("SELECT value FROM faasctl_meta WHERE key = 'installation_id'"))[0]!.value;
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('answers every example warm exactly as cold, and the request log says which ran how', async () => {
    const examples = ['sum', 'fib_madhat', 'csv_stats', 'log_summary'];
    const runs = await Promise.all(
      examples.map(async (name) => {
        ok(await deployFresh([join(EXAMPLES, `${name}.py`), '--warm', '1', '--workers', '1']));
        const data = join(EXAMPLES, `${name}.input.json`);
        const warm = ok(await cli(['fn', 'invoke', name, '--data-file', data]));
        const cold = ok(await cli(['fn', 'invoke', name, '--data-file', data, '--cold']));
        return { name, warm, cold };
      }),
    );
    for (const { name, warm, cold } of runs) {
      expect(JSON.parse(warm.stdout), name).toEqual(JSON.parse(cold.stdout));
      // The function's prints, relayed the same way (a cold job names its request first).
      expect(warm.stderr, name).toBe(cold.stderr.replace(/^request [0-9a-f-]{36}: faasctl request wait [0-9a-f-]{36}\n/, ''));
    }
    expect(JSON.parse(runs[1]!.warm.stdout)).toEqual({ output_text: 'hello\n', outputData: { fib_5: 5 } });

    const listed = JSON.parse(ok(await cli(['--json', 'request', 'list', '--type', 'fn.invoke'])).stdout) as Array<{ id: string; functionName: string; mode: string; status: string }>;
    expect(listed).toHaveLength(examples.length * 2);
    for (const name of examples) {
      const mine = listed.filter((r) => r.functionName === name);
      expect(mine.map((r) => r.mode).sort(), name).toEqual(['cold', 'warm']);
      const [warm, cold] = await Promise.all(['warm', 'cold'].map(async (mode) => JSON.parse(ok(await cli(['--json', 'request', 'show', mine.find((r) => r.mode === mode)!.id])).stdout)));
      expect(warm).toMatchObject({ status: 'success', mode: 'warm', result: cold.result, output: cold.output, functionVersion: 1 });
      expect(cold).toMatchObject({ status: 'success', mode: 'cold' });
    }
    // Deleting a warm function takes its replicas and token with it (the leftovers check).
    await Promise.all(examples.map(async (name) => ok(await cli(['fn', 'delete', name]))));
  });

  it('refuses /invoke without the token or with a wrong one; /healthz needs none', async () => {
    ok(await deployFresh([file('guarded.py', 'def main(data):\n    return {"echo": data}\n'), '--warm', '1', '--workers', '1']));
    const service = (await warmServiceOf('guarded'))!;
    expect(service.Spec?.Name).toBe(`faasctl-warm-${installation.slice(0, 12)}-${(await functionId('guarded')).replaceAll('-', '')}`);
    const [task] = await runningTasks(service.ID);
    const port = task!.Status.PortStatus?.Ports?.find((p) => p.TargetPort === 8080)?.PublishedPort;
    expect(port).toBeGreaterThan(0);
    const base = `http://${NODE_ADDRESS}:${port}`;
    const post = (headers: Record<string, string>) => fetch(`${base}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"x": 1}' });

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(await none.text()).not.toContain('echo');
    expect((await post({ authorization: 'Bearer not-the-token-at-all-0123456789' })).status).toBe(401);
    const [{ warm_token: token }] = await rows<{ warm_token: string }>("SELECT warm_token FROM functions WHERE name = 'guarded'");
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect((await post({ authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await post({ authorization: token })).status).toBe(401); // no scheme
    const right = await post({ authorization: `Bearer ${token}` });
    expect(right.status).toBe(200);
    expect(await right.json()).toMatchObject({ status: 'success', result: { echo: { x: 1 } } });
    // A warm function's service, tasks and token are not leftovers while it is warm.
    expect(await leftovers(db.url)).toEqual(NONE);

    ok(await cli(['fn', 'scale', 'guarded', '0']));
  });

  it('scales 1 → 3 → 1 → 0; at 0 the service and token are gone and invocations run cold', async () => {
    ok(await deployFresh([file('scaled.py', 'import os\ndef main(data):\n    return os.uname().nodename\n')]));
    const id = await functionId('scaled');
    const running = async () => (await runningTasks((await warmServiceOf('scaled'))!.ID)).length;

    const up1 = JSON.parse(ok(await cli(['--json', 'fn', 'scale', 'scaled', '1', '--workers', '1'])).stdout);
    expect(up1).toMatchObject({ name: 'scaled', replicas: 1, workers: 1, previous: 0 });
    expect(await running()).toBe(1);
    expect(await tokenSecretsOf(id)).toHaveLength(1);
    const [{ warm_token: token }] = await rows<{ warm_token: string }>('SELECT warm_token FROM functions WHERE id = $1', [id]);

    ok(await cli(['fn', 'scale', 'scaled', '3']));
    expect(await running()).toBe(3); // fn scale returns once they run
    const hosts = new Set(
      answers(
        ok(
          await cli([
            'fn',
            'invoke',
            'scaled',
            '--bulk',
            jsonl(
              'scaled.jsonl',
              Array.from({ length: 60 }, (_, i) => i),
            ),
          ]),
        ).stdout,
      ).map((a) => a.result),
    );
    expect(hosts.size).toBe(3); // every replica takes a share

    ok(await cli(['fn', 'scale', 'scaled', '1']));
    await waitFor('one replica running', async () => (await running()) === 1, 20_000);
    expect(await tokenSecretsOf(id)).toHaveLength(1);
    expect((await rows('SELECT warm_token FROM functions WHERE id = $1', [id]))[0]).toEqual({ warm_token: token }); // same token throughout

    const cold = JSON.parse(ok(await cli(['--json', 'fn', 'scale', 'scaled', '0'])).stdout);
    expect(cold).toMatchObject({ replicas: 0, previous: 1 });
    expect(await warmServiceOf('scaled')).toBeUndefined();
    await waitFor('its token secret removed', async () => (await tokenSecretsOf(id)).length === 0, 10_000);
    expect(await rows('SELECT warm_replicas, warm_token FROM functions WHERE id = $1', [id])).toEqual([{ warm_replicas: 0, warm_token: null }]);

    const invoked = JSON.parse(ok(await cli(['--json', 'fn', 'invoke', 'scaled'])).stdout);
    const [row] = await rows<{ mode: string }>('SELECT mode FROM requests WHERE id = $1', [invoked.requestId]);
    expect(row).toEqual({ mode: 'cold' });
    const scales = await rows<{ params: { replicas: number }; status: string }>("SELECT params, status FROM requests WHERE type = 'fn.scale' AND function_id = $1 ORDER BY created_at", [id]);
    expect(scales.map((r) => [r.params.replicas, r.status])).toEqual([
      [1, 'success'],
      [3, 'success'],
      [1, 'success'],
      [0, 'success'],
    ]);
  });

  it('rolls a new version under load without failing a request; answers after the roll are the new version', async () => {
    const version = (v: string) => `import time\nVERSION = "${v}"\ndef main(data):\n    time.sleep(0.001)\n    return {"version": VERSION, "i": data, "t": time.time()}\n`;
    ok(await deployFresh([file('rolled.py', version('v1')), '--warm', '2', '--workers', '2']));
    const inputs = jsonl(
      'rolled.jsonl',
      Array.from({ length: 1000 }, (_, i) => i),
    );
    const runs: Array<{ r: CliResult; started: number }> = [];
    let rolledAt: number | undefined;
    // Bulk runs back to back until one has started after the roll finished.
    const load = (async () => {
      for (;;) {
        const started = Date.now() / 1000;
        runs.push({ r: await cli(['fn', 'invoke', 'rolled', '--bulk', inputs], undefined, 120_000), started });
        if (rolledAt !== undefined && started > rolledAt) return;
      }
    })();
    await waitFor('a warm bulk run of rolled', async () => (await rows("SELECT 1 FROM requests WHERE type = 'fn.invoke.bulk' AND function_name = 'rolled' AND mode = 'warm'")).length > 0, 20_000);
    const rollStarted = Date.now() / 1000;
    ok(await cli(['fn', 'update', 'rolled', file('rolled2.py', version('v2'))], undefined, 120_000));
    rolledAt = Date.now() / 1000;
    await load;

    expect(runs.length).toBeGreaterThanOrEqual(2);
    const seen = new Set<string>();
    let duringRoll = 0;
    for (const { r } of runs) {
      expect(r.code, r.stderr).toBe(0);
      const got = answers(r.stdout);
      expect(got.map((a) => a.index)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      expect(got.filter((a) => a.status !== 'success')).toEqual([]);
      for (const a of got) {
        const { version: v, t } = a.result as { version: string; t: number };
        seen.add(v);
        if (t > rollStarted && t < rolledAt!) duringRoll++;
        if (t > rolledAt!) expect(v, `input ${a.index} ran at ${t}, after the roll ended at ${rolledAt}`).toBe('v2');
      }
    }
    expect(seen).toEqual(new Set(['v1', 'v2']));
    // The load ran throughout the roll (the function reports when it ran), and none of it failed.
    expect(duringRoll).toBeGreaterThan(100);
    const last = answers(runs.at(-1)!.r.stdout);
    expect(last.every((a) => (a.result as { version: string }).version === 'v2')).toBe(true);
    const bulk = await rows<{ status: string; n: number }>(
      "SELECT r.status, (SELECT count(*)::int FROM request_items i WHERE i.request_id = r.id) AS n FROM requests r WHERE r.type = 'fn.invoke.bulk' AND r.function_name = 'rolled'",
    );
    expect(bulk).toEqual(runs.map(() => ({ status: 'success', n: 1000 })));

    expect((await warmServiceOf('rolled'))!.Spec?.Labels?.['io.faasctl.version']).toBe('2');

    // A rollback rolls the replicas back too.
    ok(await cli(['fn', 'rollback', 'rolled'], undefined, 120_000));
    expect((await warmServiceOf('rolled'))!.Spec?.Labels?.['io.faasctl.version']).toBe('1');
    const back = JSON.parse(ok(await cli(['--json', 'fn', 'invoke', 'rolled', '--data', '7'])).stdout);
    expect(back.result).toMatchObject({ version: 'v1', i: 7 });
    expect(await rows('SELECT mode, function_version FROM requests WHERE id = $1', [back.requestId])).toEqual([{ mode: 'warm', function_version: 1 }]);
    ok(await cli(['fn', 'scale', 'rolled', '0']));
  });

  it('answers every input exactly once when a warm replica is killed mid-run', async () => {
    const total = 3000;
    ok(await deployFresh([file('sturdy.py', 'import time\ndef main(data):\n    time.sleep(0.002)\n    return data * 3\n'), '--warm', '2', '--workers', '2']));
    const service = (await warmServiceOf('sturdy'))!;
    const [victim] = await runningTasks(service.ID);
    const bulk = startCli(
      [
        'fn',
        'invoke',
        'sturdy',
        '--bulk',
        jsonl(
          'sturdy.jsonl',
          Array.from({ length: total }, (_, i) => i),
        ),
      ],
      env,
    );
    await waitFor('a fifth of the answers', async () => bulk.lines() >= total / 5 || bulk.exited(), 60_000);
    expect(bulk.exited(), 'the run ended before a replica could be killed').toBe(false);
    await docker.getContainer(victim!.Status.ContainerStatus!.ContainerID!).kill();
    const killedAt = bulk.lines();
    const r = await bulk.done;

    expect(killedAt).toBeLessThan(total);
    expect(r.code, r.stderr).toBe(0);
    const got = answers(r.stdout);
    expect(got.map((a) => a.index)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(got.filter((a) => a.status !== 'success' || a.result !== a.index * 3)).toEqual([]);
    expect(r.stderr).toContain(`all ${total} succeeded`);
    // The killed replica's requests in flight went elsewhere; Swarm replaced the replica.
    expect(got.some((a) => a.attempts > 1)).toBe(true);
    const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [service.ID] }) } as object)) as unknown as SwarmTask[];
    expect(tasks.find((t) => t.ID === victim!.ID)?.Status.State).not.toBe('running');
    const [items] = await rows<{ n: number; distinct: number; lo: number; hi: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT idx)::int AS distinct, min(idx) AS lo, max(idx) AS hi FROM request_items i JOIN requests r ON r.id = i.request_id WHERE r.type = 'fn.invoke.bulk' AND r.function_name = 'sturdy'",
    );
    expect(items).toEqual({ n: total, distinct: total, lo: 0, hi: total - 1 });
    const [row] = await rows("SELECT status, mode, result FROM requests WHERE type = 'fn.invoke.bulk' AND function_name = 'sturdy'");
    expect(row).toMatchObject({ status: 'success', mode: 'warm', result: { total, answered: total, success: total } });

    ok(await cli(['fn', 'scale', 'sturdy', '0']));
  });

  it('runs a cold bulk of 200 inputs in order on one service of its own, removed with its token', async () => {
    ok(await deployFresh([file('doubler.py', 'def main(data):\n    return {"twice": data["n"] * 2}\n')]));
    const fnId = await functionId('doubler');
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = ok(
      await cli(
        [
          'fn',
          'invoke',
          'doubler',
          '--bulk',
          jsonl(
            'doubler.jsonl',
            Array.from({ length: 200 }, (_, n) => ({ n })),
          ),
        ],
        undefined,
        120_000,
      ),
    );
    const got = answers(r.stdout);
    expect(got.map((a) => [a.index, a.status, a.result])).toEqual(Array.from({ length: 200 }, (_, n) => [n, 'success', { twice: n * 2 }]));
    const [row] = await rows<{ id: string; status: string; mode: string }>("SELECT id, status, mode FROM requests WHERE type = 'fn.invoke.bulk' AND function_name = 'doubler'");
    expect(row).toMatchObject({ status: 'success', mode: 'cold' });
    expect(r.stderr).toContain(`request ${row!.id}`);
    expect((await rows('SELECT count(*)::int AS n FROM request_items WHERE request_id = $1', [row!.id]))[0]).toEqual({ n: 200 });

    const containers = await engineEvents(since, { type: ['container'], event: ['create'], label: [`io.faasctl.function=${fnId}`] });
    const services = new Set(containers.map((e) => e.Actor.Attributes['com.docker.swarm.service.name']));
    expect([...services]).toEqual([`faasctl-bulk-${row!.id.replaceAll('-', '')}`]);
    const secrets = await engineEvents(since, { type: ['secret'], event: ['create'] });
    expect(secrets.filter((e) => e.Actor.Attributes.name?.startsWith(`faasctl-token-${installation.slice(0, 12)}-`))).toHaveLength(1);
    // The leftovers check after this test: no bulk service and no token secret remain.
  });

  it('stops a cold bulk run on Ctrl-C: answers so far in order, the rest not run, its service and token removed', async () => {
    const total = 400;
    ok(await deployFresh([file('patient.py', 'import time\ndef main(data):\n    time.sleep(0.02)\n    return data\n')]));
    const bulk = startCli(
      [
        'fn',
        'invoke',
        'patient',
        '--bulk',
        jsonl(
          'patient.jsonl',
          Array.from({ length: total }, (_, i) => i),
        ),
      ],
      env,
    );
    await waitFor('20 answers', () => bulk.lines() >= 20 || bulk.exited(), 60_000);
    expect(bulk.exited(), 'the run ended before it could be interrupted').toBe(false);
    bulk.signal('SIGINT');
    const r = await bulk.done;

    expect(r.code, r.stderr).toBe(130);
    const got = answers(r.stdout);
    expect(got.length).toBeGreaterThanOrEqual(20);
    expect(got.length).toBeLessThan(total);
    expect(got.map((a) => [a.index, a.status, a.result])).toEqual(got.map((_, i) => [i, 'success', i]));
    expect(r.stderr).toContain(`${total - got.length} not run (cancelled)`);
    const [row] = await rows<{ id: string; status: string; error: string; result: unknown }>(
      "SELECT id, status, error, result FROM requests WHERE type = 'fn.invoke.bulk' AND function_name = 'patient'",
    );
    expect(row).toMatchObject({ status: 'system_error', error: `cancelled after ${got.length} of ${total} inputs`, result: { total, answered: got.length } });
    expect(await rows('SELECT count(*)::int AS n FROM request_items WHERE request_id = $1', [row!.id])).toEqual([{ n: got.length }]);
    // The leftovers check after this test: no bulk service, no token secret, no open request.
  });

  it('refuses bad bulk files and bad replica counts with exit 2 before creating anything', async () => {
    ok(await deployFresh([file('strict.py', 'def main(data):\n    return data\n')]));
    const fnId = await functionId('strict');
    const since = Math.floor(Date.now() / 1000) - 1;
    const bad = file('bad.jsonl', '{"n": 1}\n{"n": 2}\n{"n": }\n{"n": 4}\n');
    const r = await cli(['fn', 'invoke', 'strict', '--bulk', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:3: not valid JSON`);
    expect(r.stdout).toBe('');
    const json = await cli(['--json', 'fn', 'invoke', 'strict', '--bulk', bad]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'invalid_input', message: expect.stringContaining(':3:') });
    expect((await cli(['fn', 'invoke', 'strict', '--bulk', file('empty.jsonl', '\n\n')])).code).toBe(2);
    expect((await cli(['fn', 'invoke', 'strict', '--bulk', join(dir, 'missing.jsonl')])).code).toBe(2);
    expect((await cli(['fn', 'invoke', 'strict', '--bulk', jsonl('good.jsonl', [1]), '--concurrency', '0'])).code).toBe(2);

    for (const count of ['-1', 'abc', '1.5', '65']) {
      const s = await cli(['fn', 'scale', 'strict', count]);
      expect(s.code, `fn scale strict ${count}: ${s.stderr}`).toBe(2);
    }
    expect((await cli(['fn', 'scale', 'strict', '1', '--workers', '0'])).code).toBe(2);
    const deploy = await cli(['fn', 'deploy', file('never.py', 'def main(data):\n    return data\n'), '--warm', 'abc']);
    expect(deploy.code).toBe(2);

    expect(await rows("SELECT type FROM requests WHERE (type IN ('fn.invoke.bulk', 'fn.scale') AND function_name = 'strict') OR function_name = 'never'")).toEqual([]);
    expect(await rows("SELECT warm_replicas FROM functions WHERE name = 'strict'")).toEqual([{ warm_replicas: 0 }]);
    expect(await engineEvents(since, { type: ['container'], event: ['create'], label: [`io.faasctl.function=${fnId}`] })).toEqual([]);
    const services = await engineEvents(since, { type: ['service'], event: ['create'] });
    expect(services.filter((e) => e.Actor.Attributes.name?.includes(fnId.replaceAll('-', '')))).toEqual([]);
  });
});

interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

/** The engine's events since `since` (seconds) until now. */
async function engineEvents(since: number, filters: Record<string, string[]>): Promise<EngineEvent[]> {
  const until = Math.ceil(Date.now() / 1000) + 1;
  await new Promise((r) => setTimeout(r, (until - Date.now() / 1000) * 1000 + 100)); // the stream ends once `until` has passed
  const stream = await docker.getEvents({ since, until, filters: JSON.stringify(filters) } as object);
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EngineEvent);
}

/** The binary in the background, its stdout lines counted as they arrive. */
function startCli(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let lines = 0;
  let exited = false;
  child.stdout.on('data', (c: Buffer) => {
    const text = c.toString();
    stdout += text;
    for (const ch of text) if (ch === '\n') lines++;
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return { done, lines: () => lines, exited: () => exited, signal: (name: NodeJS.Signals) => child.kill(name) };
}
