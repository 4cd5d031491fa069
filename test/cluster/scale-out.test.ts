import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, isolatedEnv, runCli, type CliResult, scratchDir } from '../helpers/cli.js';
import {
  BASE_IMAGE,
  MANAGER_HOST,
  NODE_NAMES,
  NO_CLUSTER_LEFTOVERS,
  REGISTRY,
  crashNode,
  cutNode,
  dockerOn,
  healNode,
  restartNode,
  settledClusterLeftovers,
  waitForNodeState,
} from '../helpers/cluster.js';
import { query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

interface Answer {
  index: number;
  status: string;
  result: { i: number } | null;
  attempts: number;
  node: string | null;
}

/**
 * faasctl on a real 3-node Swarm (scripts/cluster.sh: a manager and two workers, each a dockerd
 * in its own network namespace, 1 s heartbeat) with a real registry, through the built binary:
 * images pushed and named by digest, work spread over the nodes, placement passed through, and
 * a node lost (power cut, cable cut) under cold jobs, bulk runs and warm replicas without losing
 * an answer. Timings are printed for the notes (the machine is shared: they are not asserted).
 */
describe('faasctl on a 3-node Swarm', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { dir, file } = scratchDir('faasctl-cluster-');
  const inputs = (name: string, n: number, ms: number) => file(name, `${Array.from({ length: n }, (_, i) => JSON.stringify({ i, ms })).join('\n')}\n`);
  const cli = (args: string[], input?: string, timeoutMs = 180_000) => runCli(args, { env, input, timeoutMs });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => query<T>(db.url, sql, params);
  const answers = (stdout: string) =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Answer);
  const perNode = (list: Array<{ node: string | null }>) => list.reduce<Record<string, number>>((m, a) => ({ ...m, [a.node ?? '?']: (m[a.node ?? '?'] ?? 0) + 1 }), {});
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await fn();
    console.log(`[timing] ${what}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    return out;
  };

  /** Runs the binary and calls `onLine` for each stdout line as it comes (to act mid-run). */
  const streaming = (args: string[], onLine: (line: string, count: number) => void, seen: { stderr: string } = { stderr: '' }) =>
    new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let partial = '';
      let count = 0;
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const parts = (partial + c.toString()).split('\n');
        partial = parts.pop()!;
        for (const line of parts) if (line) onLine(line, ++count);
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        seen.stderr = stderr;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });

  /** The node a running service's task sits on (its hostname), once it has one. */
  const taskNode = async (name: string, ended: () => CliResult | undefined = () => undefined, printed = () => '', timeoutMs = 60_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = ended();
      if (r) throw new Error(`the invoke ended (exit ${r.code}) before a task of ${name} was seen running: ${r.stdout}${r.stderr}`);
      const ids = (await dockerOn(1, ['service', 'ls', '--filter', `name=${name}`, '--format', '{{.Name}}']).catch(() => '')).split('\n').filter(Boolean);
      for (const id of ids) {
        const out = await dockerOn(1, ['service', 'ps', id, '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}']).catch(() => '');
        const running = out.split('\n').find((l) => / Running /.test(` ${l} `));
        if (running) return running.split(' ')[0]!;
      }
      if (Date.now() > until) {
        // Say what Swarm shows instead (a task stuck on a node, or no service at all).
        const seen = await Promise.all(ids.map((id) => dockerOn(1, ['service', 'ps', id, '--no-trunc', '--format', '{{.Node}} {{.CurrentState}} {{.Error}}']).catch((e: Error) => e.message)));
        throw new Error(`no running task of ${name} in ${timeoutMs} ms; services ${JSON.stringify(ids)}, tasks ${JSON.stringify(seen)}; the CLI printed so far: ${printed()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_HOST: MANAGER_HOST, FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: BASE_IMAGE });
    const up = await timed('faasctl up --registry (build + push the runtime on the manager)', () => cli(['up', '--registry', REGISTRY, '--json'], undefined, 600_000));
    expect(up.code, up.stderr).toBe(0);
    const steps = (JSON.parse(up.stdout) as { steps: Array<{ step: string; outcome: string; detail: string }> }).steps;
    expect(steps.find((s) => s.step === 'registry')?.detail).toMatch(new RegExp(`^${REGISTRY.replaceAll('.', '\\.')}/faasctl/runtime-python@sha256:[0-9a-f]{64}$`));
    ok(await cli(['user', 'create', 'cluster-user', '--password-stdin'], 'cluster-pass'));
    ok(await cli(['login', 'cluster-user', '--password-stdin'], 'cluster-pass'));
    const echo = file('echo.py', 'import time\n\ndef main(data):\n    data = data or {}\n    time.sleep(data.get("ms", 0) / 1000)\n    return {"i": data.get("i")}\n');
    ok(await cli(['fn', 'deploy', echo, '--name', 'echo']));
    ok(await cli(['fn', 'deploy', echo, '--name', 'onworkers', '--constraint', 'node.role==worker']));
  }, 900_000);

  afterEach(async () => {
    // Whatever a test broke: every node plugged in, running and Ready before the next one.
    await healNode(2).catch(() => {});
    await restartNode(3).catch(() => {});
    for (const i of [2, 3]) await waitForNodeState(i, 'ready', 60_000);
  }, 120_000);

  afterAll(async () => {
    try {
      for (const name of ['echo', 'onworkers', 'pinned']) await cli(['fn', 'delete', name]).catch(() => {});
      ok(await cli(['gc']));
      expect(await settledClusterLeftovers(60_000)).toEqual(NO_CLUSTER_LEFTOVERS);
    } finally {
      await db?.drop();
    }
  }, 180_000);

  it('warm replicas spread over the nodes, named by digest from the registry, on every node', async () => {
    // Also puts the runtime image on every node: the workers pull it from the registry here.
    const scaled = await timed('fn scale echo 3 (workers pull the runtime)', () => cli(['fn', 'scale', 'echo', '3']));
    ok(scaled);
    const services = (await dockerOn(1, ['service', 'ls', '--filter', 'label=io.faasctl.component=warm', '--format', '{{.ID}}'])).split('\n').filter(Boolean);
    expect(services).toHaveLength(1);
    const image = (await dockerOn(1, ['service', 'inspect', services[0]!, '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}'])).trim();
    expect(image).toMatch(new RegExp(`^${REGISTRY.replaceAll('.', '\\.')}/faasctl/runtime-python@sha256:[0-9a-f]{64}$`));
    const nodes = (await dockerOn(1, ['service', 'ps', services[0]!, '--filter', 'desired-state=running', '--format', '{{.Node}}'])).split('\n').filter(Boolean).sort();
    expect(nodes).toEqual([...NODE_NAMES]);
    const doctor = await cli(['doctor', '--json']);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string }> }).checks;
    expect(checks.find((c) => c.name === 'registry')?.status).toBe('ok');
    expect(checks.find((c) => c.name === 'nodes')?.status).toBe('ok');
    // Warm answers say which node ran them; the router spreads them over all three.
    const warm = await cli(['fn', 'invoke', 'echo', '--bulk', inputs('warm60.jsonl', 60, 20)]);
    ok(warm);
    expect(Object.keys(perNode(answers(warm.stdout))).sort()).toEqual([...NODE_NAMES]);
    // top sees the replicas on every node, each with its own counters (GET /stats on its node).
    const top = JSON.parse(ok(await cli(['--json', 'top', '--once'])).stdout) as { nodes: unknown[]; tasks: Array<{ kind: string; functionName: string; node: string; runtime?: { served: number } }> };
    expect(top.nodes).toHaveLength(3);
    const replicas = top.tasks.filter((t) => t.kind === 'warm' && t.functionName === 'echo');
    expect(replicas.map((t) => t.node).sort()).toEqual([...NODE_NAMES]);
    expect(
      replicas.every((t) => (t.runtime?.served ?? 0) > 0),
      JSON.stringify(replicas),
    ).toBe(true);
    ok(await cli(['fn', 'scale', 'echo', '0']));
  });

  it('pushes a dependency image to the registry and runs it on a worker that never built it', async () => {
    const fnDir = join(dir, 'withlib');
    mkdirSync(join(fnDir, 'mylib', 'src', 'mylib'), { recursive: true });
    writeFileSync(join(fnDir, 'mylib', 'pyproject.toml'), '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "mylib"\nversion = "1.0"\n');
    writeFileSync(join(fnDir, 'mylib', 'src', 'mylib', '__init__.py'), 'def answer():\n    return "from mylib"\n');
    writeFileSync(join(fnDir, 'handler.py'), 'import mylib\n\ndef main(data):\n    return {"answer": mylib.answer()}\n');
    writeFileSync(join(fnDir, 'requirements.txt'), './mylib\n');
    const deployed = JSON.parse(
      ok(await timed('fn deploy DIR with a local package (build + push on the manager)', () => cli(['fn', 'deploy', fnDir, '--name', 'withlib', '--constraint', 'node.role==worker', '--json'])))
        .stdout,
    ) as { image: string };
    expect(deployed.image).toMatch(new RegExp(`^${REGISTRY.replaceAll('.', '\\.')}/faasctl/python-deps@sha256:[0-9a-f]{64}$`));
    const run = JSON.parse(ok(await cli(['fn', 'invoke', 'withlib', '--json'])).stdout) as { result: unknown; node: string };
    expect(run.result).toEqual({ answer: 'from mylib' });
    expect(['fcl-n2', 'fcl-n3']).toContain(run.node);
    ok(await cli(['fn', 'delete', 'withlib']));
  });

  it('spreads a cold bulk of 300 inputs over the three nodes, one answer per input', async () => {
    const run = await timed('cold bulk of 300 (50 ms each), no node lost', () => cli(['fn', 'invoke', 'echo', '--cold', '--bulk', inputs('bulk300.jsonl', 300, 50)]));
    ok(run);
    const list = answers(run.stdout);
    expect(list.map((a) => a.index)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(list.every((a) => a.status === 'success' && a.result?.i === a.index)).toBe(true);
    const counts = perNode(list);
    console.log(`[spread] cold bulk of 300 by node: ${JSON.stringify(counts)}`);
    expect(Object.keys(counts).sort()).toEqual([...NODE_NAMES]);
    expect(run.stderr).toMatch(/by node: fcl-n1 \d+, fcl-n2 \d+, fcl-n3 \d+/);
    const [row] = await rows<{ result: { nodes: Record<string, number> } }>("SELECT result FROM requests WHERE type = 'fn.invoke.bulk' ORDER BY created_at DESC LIMIT 1");
    expect(row!.result.nodes).toEqual(counts);
  });

  it('places cold jobs over more than one node, names the node in the row, and passes --constraint through', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => cli(['fn', 'invoke', 'echo', '--cold', '--json', '--data', JSON.stringify({ i, ms: 1500 })])));
    const nodes = runs.map((r) => (JSON.parse(ok(r).stdout) as { node: string }).node);
    console.log(`[spread] 6 concurrent cold jobs by node: ${JSON.stringify(perNode(nodes.map((node) => ({ node }))))}`);
    expect(nodes.every((n) => (NODE_NAMES as readonly string[]).includes(n))).toBe(true);
    expect(new Set(nodes).size).toBeGreaterThanOrEqual(2);
    const stored = await rows<{ node: string }>("SELECT node FROM requests WHERE type = 'fn.invoke' AND function_name = 'echo' AND mode = 'cold'");
    expect(stored.map((r) => r.node).sort()).toEqual([...nodes].sort());

    const echo = file('pinned.py', 'def main(data):\n    return "pinned"\n');
    ok(await cli(['fn', 'deploy', echo, '--name', 'pinned', '--constraint', 'node.hostname==fcl-n3']));
    const shown = JSON.parse(ok(await cli(['fn', 'show', 'pinned', '--json'])).stdout) as { placement: unknown };
    expect(JSON.stringify(shown)).toContain('node.hostname==fcl-n3');
    for (let i = 0; i < 2; i++) expect((JSON.parse(ok(await cli(['fn', 'invoke', 'pinned', '--json'])).stdout) as { node: string }).node).toBe('fcl-n3');
    const bad = await cli(['fn', 'deploy', echo, '--name', 'nowhere', '--constraint', 'hostname==x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('error: invalid --constraint "hostname==x"');
    expect(await rows("SELECT 1 FROM functions WHERE name = 'nowhere'")).toEqual([]);
  });

  it('loses no input when a worker loses power in the middle of a cold bulk of 300', async () => {
    let crashed: Promise<void> | undefined;
    const t0 = performance.now();
    // Cut once fcl-n3 is busy (its replicas answer), so requests are in flight there.
    let fromN3 = 0;
    let at = 0;
    const run = await streaming(['fn', 'invoke', 'echo', '--cold', '--bulk', inputs('bulk300b.jsonl', 300, 50)], (line, n) => {
      if ((JSON.parse(line) as Answer).node === 'fcl-n3') fromN3++;
      if (!crashed && n >= 60 && fromN3 >= 5) [crashed, at] = [crashNode(3), n];
    });
    console.log(`[timing] cold bulk of 300 (50 ms each) with fcl-n3 power-cut after ${at} answers: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    await crashed;
    expect(crashed, 'the crash happened mid-run').toBeDefined();
    expect(run.code, run.stderr).toBe(0);
    const list = answers(run.stdout);
    expect(list.map((a) => a.index)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(list.every((a) => a.status === 'success' && a.result?.i === a.index)).toBe(true);
    const retried = list.filter((a) => a.attempts > 1);
    console.log(`[node loss] bulk: ${retried.length} inputs retried; by node: ${JSON.stringify(perNode(list))}`);
    expect(retried.length).toBeGreaterThan(0);
    const [row] = await rows<{ id: string }>("SELECT id FROM requests WHERE type = 'fn.invoke.bulk' ORDER BY created_at DESC LIMIT 1");
    const items = await rows<{ n: number; retried: number }>('SELECT count(*)::int AS n, count(*) FILTER (WHERE attempts > 1)::int AS retried FROM request_items WHERE request_id = $1', [row!.id]);
    expect(items[0]).toEqual({ n: 300, retried: retried.length });
  });

  it('runs a cold job again under the same request when its node is cut off, with the attempt in the row', async () => {
    let lostNode = '';
    const t0 = performance.now();
    // --debug: should the job not start, the failure shows how far the CLI got.
    let ended: CliResult | undefined;
    const seen = { stderr: '' };
    const invoked = streaming(['fn', 'invoke', 'onworkers', '--cold', '--json', '--debug', '--data', '{"i": 7, "ms": 6000}'], () => {}, seen).then((r) => (ended = r));
    lostNode = await taskNode(
      'faasctl-run-',
      () => ended,
      () => seen.stderr,
    );
    expect(['fcl-n2', 'fcl-n3']).toContain(lostNode);
    const index = NODE_NAMES.indexOf(lostNode as (typeof NODE_NAMES)[number]) + 1;
    await (index === 2 ? cutNode(2) : crashNode(3));
    const r = await invoked;
    console.log(`[timing] cold job (6 s) whose node ${lostNode} was lost: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { requestId: string; result: unknown; node: string; attempt: number };
    expect(out.result).toEqual({ i: 7 });
    expect(out.attempt).toBe(2);
    expect(out.node).not.toBe(lostNode);
    expect(r.stderr).toContain(`warning: node ${lostNode} was lost while running onworkers; running it again`);
    const [row] = await rows<{ attempt: number; node: string; status: string }>('SELECT attempt, node, status FROM requests WHERE id = $1', [out.requestId]);
    expect(row).toEqual({ attempt: 2, node: out.node, status: 'success' });
  });

  it('runs an --async job again when its node is lost, once gc notices, and request wait gives the answer', async () => {
    const id = ok(await cli(['fn', 'invoke', 'onworkers', '--async', '--data', '{"i": 9, "ms": 4000}'])).stdout.trim();
    const lostNode = await taskNode('faasctl-run-');
    const index = NODE_NAMES.indexOf(lostNode as (typeof NODE_NAMES)[number]) + 1;
    await (index === 2 ? cutNode(2) : crashNode(3));
    await waitForNodeState(index, 'down', 30_000);
    ok(await cli(['gc']));
    const [row] = await rows<{ attempt: number; status: string }>('SELECT attempt, status FROM requests WHERE id = $1', [id]);
    expect(row).toEqual({ attempt: 2, status: 'running' });
    const waited = JSON.parse(ok(await cli(['request', 'wait', id, '--json'])).stdout) as { result: unknown; node: string; attempt: number };
    expect(waited).toMatchObject({ result: { i: 9 }, attempt: 2 });
    expect(waited.node).not.toBe(lostNode);
  });

  it('keeps a warm function answering when one of the two nodes holding its replicas is cut off', async () => {
    ok(await cli(['fn', 'scale', 'onworkers', '2']));
    const before = (
      await dockerOn(1, [
        'service',
        'ps',
        '--filter',
        'desired-state=running',
        '--format',
        '{{.Node}}',
        (await dockerOn(1, ['service', 'ls', '--filter', 'label=io.faasctl.component=warm', '--format', '{{.ID}}'])).trim(),
      ])
    )
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(before).toEqual(['fcl-n2', 'fcl-n3']);
    let cut: Promise<void> | undefined;
    const t0 = performance.now();
    const run = await streaming(['fn', 'invoke', 'onworkers', '--bulk', inputs('warm400.jsonl', 400, 20)], (_line, n) => {
      if (n === 50) cut = cutNode(2);
    });
    console.log(`[timing] warm bulk of 400 (20 ms each) with fcl-n2 cut off after 50: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    await cut;
    expect(run.code, run.stderr).toBe(0);
    const list = answers(run.stdout);
    expect(list.map((a) => a.index)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(list.every((a) => a.status === 'success')).toBe(true);
    console.log(`[node loss] warm: by node ${JSON.stringify(perNode(list))}, ${list.filter((a) => a.attempts > 1).length} retried`);
    // With fcl-n2 still cut off, single invocations answer from fcl-n3.
    await waitForNodeState(2, 'down', 30_000);
    for (let i = 0; i < 3; i++) {
      const one = JSON.parse(ok(await cli(['fn', 'invoke', 'onworkers', '--json', '--data', '{"i": 1}'])).stdout) as { node: string; mode: string };
      expect(one).toMatchObject({ node: 'fcl-n3', mode: 'warm' });
    }
    await healNode(2);
    ok(await cli(['fn', 'scale', 'onworkers', '0']));
  });
});
