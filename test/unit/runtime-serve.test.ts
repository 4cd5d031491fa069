// The runtime's `serve` mode (a warm replica) run with the host's python3: the HTTP contract
// the router relies on (token, outcome JSON, 503 never run), workers replaced after a timeout
// or a crash, and draining on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionShadowingRuntime, PYTHON, requirePython, runtimeArgv, unshadowedResult } from '../helpers/python-runtime.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

const TIMEOUT_MS = 1_500;
const WORKERS = 2;

requirePython();

/** One function for most cases, steered by its input. */
const ACTIONS = `import os, sys, time

def main(data):
    action = data.get("action") if isinstance(data, dict) else None
    if action == "raise":
        raise ValueError("boom")
    if action == "print":
        print("hello")
        sys.stderr.write("warn\\n")
        return "printed"
    if action == "sleep":
        time.sleep(data["seconds"])
        return {"slept": data["seconds"], "pid": os.getpid()}
    if action == "exit":
        os._exit(3)
    return {"echo": data, "pid": os.getpid()}
`;

/** The 2016 example: helper declared `global` after its definition. */
const MADHAT_FIB = `def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
global fib
def madhat_func(input_data, output_data):
    print("hello")
    output_data["fib_5"] = fib(input_data["val_2"])
`;

const BROKEN_IMPORT = 'raise RuntimeError("cannot start")\n\ndef main(data):\n    return 1\n';

interface Outcome {
  v: number;
  status: 'success' | 'error' | 'timeout' | 'oom' | 'killed';
  result: any;
  error: { type: string; message: string; traceback: string | null } | null;
  output: { text: string; bytes: number; truncated: boolean };
  metrics: { durationMs: number; cpuMs: number | null; maxRssKb: number | null };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Server {
  port: number;
  token: string;
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

let dir = '';
const started: Server[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

beforeAll(() => {
  dir = tempDir('faasctl-serve-test-');
});

afterAll(() => {
  agent.destroy();
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function request(port: number, o: { method?: string; path?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent | false } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = o.body ?? '';
    const method = o.method ?? 'POST';
    const headers = method === 'POST' ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...o.headers } : o.headers;
    const req = http.request({ host: '127.0.0.1', port, method, path: o.path ?? '/invoke', headers, agent: o.agent ?? agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

async function invoke(s: Server, input: unknown, agentOverride?: http.Agent | false): Promise<Outcome> {
  const reply = await request(s.port, { headers: { authorization: `Bearer ${s.token}` }, body: typeof input === 'string' ? input : JSON.stringify(input), agent: agentOverride });
  expect(reply.status, reply.body).toBe(200);
  return JSON.parse(reply.body) as Outcome;
}

async function health(s: Server): Promise<{ ok: boolean; workers: number; idle: number }> {
  const reply = await request(s.port, { method: 'GET', path: '/healthz' });
  expect(reply.status).toBe(200);
  return JSON.parse(reply.body);
}

/** Until every worker is loaded and idle (after start, or after one was replaced). */
async function allIdle(s: Server, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const h = await health(s).catch(() => undefined);
    if (h?.idle === WORKERS) return;
    if (Date.now() > until) throw new Error(`workers not idle after ${ms} ms: ${JSON.stringify(h)}; stderr: ${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function startServer(source: string): Promise<Server> {
  const port = await freePort();
  const token = randomBytes(24).toString('base64url'); // 32 characters
  const tokenFile = join(dir, `token-${port}`);
  const codeFile = join(dir, `fn-${port}.py`);
  writeFileSync(tokenFile, `${token}\n`);
  writeFileSync(codeFile, source);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('FAASCTL_')) env[key] = value;
  Object.assign(env, { FAASCTL_PORT: String(port), FAASCTL_TOKEN_FILE: tokenFile, FAASCTL_CODE_FILE: codeFile, FAASCTL_TIMEOUT_MS: String(TIMEOUT_MS), FAASCTL_WORKERS: String(WORKERS) });
  const proc = spawn(PYTHON, runtimeArgv('serve'), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const server: Server = { port, token, proc, stderr: () => stderr, exited };
  started.push(server);
  await allIdle(server);
  return server;
}

describe('python runtime: serve', { timeout: 10_000 }, () => {
  let s: Server;

  beforeAll(async () => {
    s = await startServer(ACTIONS);
  });

  it('answers /healthz without a token', async () => {
    const reply = await request(s.port, { method: 'GET', path: '/healthz' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ ok: true, workers: WORKERS, idle: WORKERS });
  });

  it('refuses /invoke without the token or with a wrong one, and closes the connection', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-wrong-token-wrong-' }, { authorization: s.token }, { authorization: `Bearer ${s.token}x` }]) {
      const reply = await request(s.port, { headers, body: '{"a":1}' });
      expect(reply.status, JSON.stringify(headers)).toBe(401);
      expect(JSON.parse(reply.body)).toEqual({ error: 'missing or wrong token' });
      expect(reply.headers.connection).toBe('close');
    }
  });

  it('answers 404 for any other route', async () => {
    expect((await request(s.port, { method: 'GET', path: '/invoke' })).status).toBe(404);
  });

  it('runs the function with the right token: status success and its result, on a kept-alive connection', async () => {
    const first = await invoke(s, { a: 1 });
    expect(first).toMatchObject({ v: 1, status: 'success', error: null, result: { echo: { a: 1 } }, output: { text: '', bytes: 0, truncated: false } });
    expect(first.metrics.durationMs).toBeGreaterThanOrEqual(0);
    expect(first.metrics.maxRssKb).toBeGreaterThan(0);
    const reply = await request(s.port, { headers: { authorization: `Bearer ${s.token}` }, body: '[1,2]' });
    expect(reply.headers.connection).not.toBe('close');
    expect(JSON.parse(reply.body)).toMatchObject({ status: 'success', result: { echo: [1, 2] } });
  });

  it('answers an invalid JSON body with status error, type InputError', async () => {
    const o = await invoke(s, '{"a":');
    expect(o).toMatchObject({ status: 'error', result: null, error: { type: 'InputError' } });
    expect(o.error?.message).toMatch(/not valid JSON/);
  });

  it('answers an exception with status error and its traceback', async () => {
    const o = await invoke(s, { action: 'raise' });
    expect(o).toMatchObject({ status: 'error', result: null, error: { type: 'ValueError', message: 'boom' } });
    expect(o.error?.traceback).toMatch(/in main[\s\S]*ValueError: boom/);
    expect(o.error?.traceback).not.toMatch(/faasctl_runtime/);
  });

  it('captures what the function prints in output.text, stderr included', async () => {
    const o = await invoke(s, { action: 'print' });
    expect(o).toMatchObject({ status: 'success', result: 'printed', output: { text: 'hello\nwarn\n', bytes: 11, truncated: false } });
  });

  it('answers a function past its timeout with status timeout, replaces the worker and serves the next requests', async () => {
    const t0 = Date.now();
    const o = await invoke(s, { action: 'sleep', seconds: 5 });
    const took = Date.now() - t0;
    expect(o).toMatchObject({ status: 'timeout', result: null, error: { type: 'Timeout' } });
    expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(took).toBeLessThan(TIMEOUT_MS + 2_000);
    expect((await invoke(s, { after: 'timeout' })).status).toBe('success');
    await allIdle(s);
    // Both workers busy at once: the replacement works too.
    const both = await Promise.all([invoke(s, { action: 'sleep', seconds: 0.3 }), invoke(s, { action: 'sleep', seconds: 0.3 })]);
    expect(both.map((b) => b.status)).toEqual(['success', 'success']);
    expect(new Set(both.map((b) => b.result.pid)).size).toBe(2);
  });

  it('answers a worker that exits mid-request with status error ExitError, and serves the next requests', async () => {
    const before = await Promise.all([invoke(s, { action: 'sleep', seconds: 0.3 }), invoke(s, { action: 'sleep', seconds: 0.3 })]);
    const o = await invoke(s, { action: 'exit' });
    expect(o).toMatchObject({ status: 'error', result: null, error: { type: 'ExitError' } });
    expect(o.error?.message).toMatch(/exited with code 3/);
    expect((await invoke(s, { after: 'exit' })).status).toBe('success');
    await allIdle(s);
    const after = await Promise.all([invoke(s, { action: 'sleep', seconds: 0.3 }), invoke(s, { action: 'sleep', seconds: 0.3 })]);
    expect(after.map((b) => b.status)).toEqual(['success', 'success']);
    const pids = (xs: Outcome[]) => new Set(xs.map((x) => x.result.pid as number));
    // One of the two workers is new.
    expect([...pids(after)].filter((p) => pids(before).has(p))).toHaveLength(1);
  });
});

describe('python runtime: serve, other functions', { timeout: 10_000 }, () => {
  it('runs the 2016 madhat_func format: output_text and outputData', async () => {
    const s = await startServer(MADHAT_FIB);
    const o = await invoke(s, { input_data: { val_2: 5 }, output_data: { kept: true } });
    expect(o).toMatchObject({ status: 'success', error: null });
    expect(o.result).toEqual({ output_text: 'hello\n', outputData: { kept: true, fib_5: 5 } });
    s.proc.kill('SIGKILL');
  });

  it('answers every request with the error of a module that raises at import', async () => {
    const s = await startServer(BROKEN_IMPORT);
    for (let i = 0; i < 3; i++) {
      const o = await invoke(s, { i });
      expect(o).toMatchObject({ status: 'error', result: null, error: { type: 'RuntimeError', message: 'cannot start' } });
      expect(o.error?.traceback).toMatch(/line 1[\s\S]*RuntimeError: cannot start/);
    }
    s.proc.kill('SIGKILL');
  });

  it("loads user modules named like runtime modules as the user's, and keeps answering", async () => {
    const s = await startServer(functionShadowingRuntime(dir));
    for (let i = 0; i < 2; i++) {
      const o = await invoke(s, { i });
      expect(o).toMatchObject({ status: 'success', error: null });
      expect(o.result).toEqual(unshadowedResult({ i }));
    }
    s.proc.kill('SIGKILL');
  });
});

describe('python runtime: serve on SIGTERM', { timeout: 10_000 }, () => {
  it('finishes the request in flight, refuses new connections and exits 0', async () => {
    const s = await startServer(ACTIONS);
    const own = new http.Agent({ keepAlive: true });
    try {
      const slow = invoke(s, { action: 'sleep', seconds: 1.2 }, own);
      let answered = false;
      void slow.then(
        () => (answered = true),
        () => undefined,
      );
      // The request has a worker once one is no longer idle.
      await waitFor('a worker to take the request', async () => (await health(s)).idle < WORKERS, 5_000, 10);
      s.proc.kill('SIGTERM');

      // The listening socket closes within the server's poll interval (0.5 s).
      const until = Date.now() + 1_000;
      let refused = false;
      while (!refused && Date.now() < until) {
        const err = await request(s.port, { method: 'GET', path: '/healthz', agent: false }).then(
          () => undefined,
          (e: NodeJS.ErrnoException) => e,
        );
        refused = err?.code === 'ECONNREFUSED';
        if (!refused) await new Promise((r) => setTimeout(r, 25));
      }
      expect(refused).toBe(true);
      expect(answered).toBe(false);

      const o = await slow;
      expect(o).toMatchObject({ status: 'success', result: { slept: 1.2 } });
      expect(await s.exited).toBe(0);
    } finally {
      own.destroy();
    }
  });
});
