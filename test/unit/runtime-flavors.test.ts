// Handler flavours in the Python runtime (issue 19), run with the host's python3: what the
// checker detects and refuses, and how `run` (cold) and `serve` (warm) call each flavour.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { PYTHON, requirePython, runtimeArgv } from '../helpers/python-runtime.js';
import { tempDir } from '../helpers/temp.js';

requirePython();

const LAMBDA_CONTEXT = `import time

def lambda_handler(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    return {
        "event": event,
        "requestId": context.aws_request_id,
        "name": context.function_name,
        "version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "identity": context.identity,
        "client": context.client_context,
        "remaining": [first, context.get_remaining_time_in_millis()],
    }
`;

const LAMBDA_RAISES = `def helper(event):
    raise KeyError(event.get("missing", "order_id"))

def handler(event, context):
    return helper(event)
`;

const OPENFAAS = `def handle(req):
    return "got %s: %s" % (type(req).__name__, req)
`;

let dir = '';
const servers: ChildProcess[] = [];

beforeAll(() => {
  dir = tempDir('faasctl-flavors-test-');
});

afterAll(() => {
  for (const p of servers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('FAASCTL_')) env[key] = value;
  return { ...env, ...extra };
}

function writeFunction(source: string): string {
  const path = join(dir, `fn-${randomBytes(6).toString('hex')}.py`);
  writeFileSync(path, source);
  return path;
}

function runtime(args: string[], env: Record<string, string>, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, runtimeArgv(...args), { env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

async function check(source: string, ...extra: string[]): Promise<Record<string, any>> {
  const done = await runtime(['check', '--file', writeFunction(source), ...extra], {});
  return JSON.parse(done.stdout.trim());
}

/** One cold run; the frame and what came before it on stdout. */
async function run(source: string, input: string, env: Record<string, string> = {}) {
  const nonce = randomBytes(16).toString('hex');
  const done = await runtime(['run'], { FAASCTL_NONCE: nonce, FAASCTL_CODE_FILE: writeFunction(source), ...env }, input);
  const marker = `FAASCTL-RESULT:${nonce}:`;
  const at = done.stdout.lastIndexOf(marker);
  if (at < 0) throw new Error(`no frame: ${done.stdout} ${done.stderr}`);
  return { frame: JSON.parse(done.stdout.slice(at + marker.length)), stdout: done.stdout.slice(0, at), stderr: done.stderr };
}

describe.concurrent('python runtime: flavour detection at check', { timeout: 60_000 }, () => {
  it('finds each flavour by its entry and signature', async ({ expect }) => {
    expect(await check('def main(args):\n    return args\n')).toMatchObject({ ok: true, format: 'main', entry: 'main' });
    expect(await check('def lambda_handler(event, context):\n    return 1\n')).toMatchObject({ ok: true, format: 'lambda', entry: 'lambda_handler' });
    expect(await check('async def handler(event, context):\n    return 1\n')).toMatchObject({ ok: true, format: 'lambda', entry: 'handler' });
    expect(await check('def handle(req):\n    return req\n')).toMatchObject({ ok: true, format: 'openfaas', entry: 'handle' });
    expect(await check('def madhat_func(input_data, output_data):\n    pass\n')).toMatchObject({ ok: true, format: 'madhat', entry: 'madhat_func' });
    // Another name via --entry: one argument is main-style, two are Lambda's.
    expect(await check('def process(event):\n    return 1\n', '--entry', 'process')).toMatchObject({ ok: true, format: 'main' });
    expect(await check('def process(event, ctx=None):\n    return 1\n', '--entry', 'process')).toMatchObject({ ok: true, format: 'main' });
    expect(await check('def process(event, ctx):\n    return 1\n', '--entry', 'process')).toMatchObject({ ok: true, format: 'lambda' });
  });

  it('takes the flavour named with --flavor, main included', async ({ expect }) => {
    expect(await check('def main(event, context):\n    return 1\n', '--flavor', 'lambda')).toMatchObject({ ok: true, format: 'lambda', entry: 'main' });
    expect(await check('def handle(req):\n    return 1\n', '--flavor', 'main', '--entry', 'handle')).toMatchObject({ ok: true, format: 'main', entry: 'handle' });
    expect((await check('def handle(req):\n    return 1\n', '--flavor', 'lambda')).error).toMatchObject({ kind: 'entry' });
  });

  it('refuses an entry whose parameters do not fit its flavour, naming the flavour and the signature', async ({ expect }) => {
    expect(await check('def lambda_handler(event):\n    return 1\n')).toEqual({
      ok: false,
      error: { kind: 'signature', message: 'the lambda flavour calls lambda_handler(event, context), but lambda_handler takes 1 positional parameter', line: null, col: null, text: null, caret: null },
    });
    expect((await check('def handle(req, extra):\n    return 1\n')).error.message).toBe('the openfaas flavour calls handle(req), but handle takes 2 positional parameters');
    expect((await check('def main(a, b):\n    return 1\n')).error.message).toBe('the main flavour calls main(args), but main takes 2 positional parameters');
    expect((await check('def main(*, key):\n    return 1\n')).error.kind).toBe('signature');
    // *args takes any count; a callable object cannot be read from the source and is let through.
    expect(await check('def handler(*args):\n    return 1\n')).toMatchObject({ ok: true, format: 'main' });
  });
});

describe.concurrent('python runtime: flavours at run', { timeout: 60_000 }, () => {
  it('gives a Lambda handler {} for no input and a context counting down the real deadline', async ({ expect }) => {
    const env = {
      FAASCTL_FLAVOR: 'lambda',
      FAASCTL_ENTRY: 'lambda_handler',
      FAASCTL_REQUEST_ID: 'req-42',
      FAASCTL_FUNCTION_NAME: 'ctxfn',
      FAASCTL_FUNCTION_VERSION: '3',
      FAASCTL_INSTALLATION: 'inst',
      // Long enough that a loaded machine's start-up cannot eat it: the test is the countdown, not speed.
      FAASCTL_TIMEOUT_MS: '60000',
      FAASCTL_MEMORY_LIMIT: String(128 * 1048576),
    };
    const { frame } = await run(LAMBDA_CONTEXT, '', env);
    expect(frame.status).toBe('success');
    const r = frame.result;
    expect(r).toMatchObject({ event: {}, requestId: 'req-42', name: 'ctxfn', version: '3', memory: 128, identity: null, client: null, group: '/faasctl/ctxfn', stream: '3/req-42' });
    expect(r.arn).toBe('arn:faasctl:lambda:local:inst:function:ctxfn:3');
    const [first, second] = r.remaining;
    expect(first).toBeLessThan(60_000);
    expect(first).toBeGreaterThan(30_000);
    expect(second).toBeLessThanOrEqual(first - 40);
  });

  it("reports a raising Lambda handler in Lambda's shape too, from the user's file", async ({ expect }) => {
    const { frame } = await run(LAMBDA_RAISES, '{"missing": "sku"}', { FAASCTL_FLAVOR: 'lambda', FAASCTL_ENTRY: 'handler', FAASCTL_REQUEST_ID: 'req-7' });
    expect(frame.status).toBe('error');
    expect(frame.error).toMatchObject({ type: 'KeyError', message: "'sku'" });
    expect(frame.error.traceback).toMatch(/fn-[0-9a-f]+\.py", line 5, in handler/);
    expect(frame.error.traceback).not.toMatch(/faasctl_runtime/);
    expect(frame.error.lambda).toMatchObject({ errorMessage: "'sku'", errorType: 'KeyError', requestId: 'req-7' });
    expect(frame.error.lambda.stackTrace.join('\n')).toMatch(/line 2, in helper/);
  });

  it('hands an OpenFaaS handle(req) the body as text', async ({ expect }) => {
    const env = { FAASCTL_FLAVOR: 'openfaas', FAASCTL_ENTRY: 'handle' };
    expect((await run(OPENFAAS, '"plain text"', env)).frame.result).toBe('got str: plain text');
    expect((await run(OPENFAAS, ' {"a": [1, 2]} \n', env)).frame.result).toBe('got str: {"a": [1, 2]}');
    expect((await run(OPENFAAS, '', env)).frame.result).toBe('got str: ');
  });

  it('takes an input with headers as an HTTP request for OpenFaaS: Http_* variables, the body as req; anything else stays a body', async ({ expect }) => {
    const env = { FAASCTL_FLAVOR: 'openfaas', FAASCTL_ENTRY: 'handle', FAASCTL_FUNCTION_NAME: 'hook', FAASCTL_REQUEST_ID: 'req-3' };
    const source = 'import os\ndef handle(req):\n    return [req, sorted((k, v) for k, v in os.environ.items() if k.startswith(("Http_", "__OW_A")))]\n';
    const http = '{"headers": {"content-type": "text/csv", "X-API-KEY": "k"}, "body": "a,b", "method": "PUT", "query": "x=1&y=2"}';
    expect((await run(source, http, env)).frame.result).toEqual([
      'a,b',
      [
        ['Http_Content_Type', 'text/csv'],
        ['Http_Method', 'PUT'],
        ['Http_Query', 'x=1&y=2'],
        ['Http_X_Api_Key', 'k'],
        ['__OW_ACTION_NAME', '/_/hook'],
        ['__OW_ACTIVATION_ID', 'req-3'],
      ],
    ]);
    // Another key beside them, or headers that are not all strings: an ordinary body.
    const other = '{"headers": {"a": "b"}, "user": 1}';
    expect((await run(source, other, env)).frame.result).toEqual([
      other,
      [
        ['__OW_ACTION_NAME', '/_/hook'],
        ['__OW_ACTIVATION_ID', 'req-3'],
      ],
    ]);
    expect((await run(source, '{"headers": {"n": 1}}', env)).frame.result[0]).toBe('{"headers": {"n": 1}}');
  });

  it('detects the flavour when the container was not told (an older spec)', async ({ expect }) => {
    expect((await run('def handler(event, context):\n    return [event, context.aws_request_id]\n', '5')).frame.result).toEqual([5, '']);
  });

  it('takes any JSON value in and out; a tuple becomes a list', async ({ expect }) => {
    const echo = 'def main(args):\n    return args\n';
    for (const value of [42, 'text', [1, 'two', null], null, 1.5, true]) {
      expect((await run(echo, JSON.stringify(value))).frame.result).toEqual(value);
    }
    expect((await run('def main(args):\n    return (1, (2, 3))\n', '')).frame.result).toEqual([1, [2, 3]]);
  });

  it('names the type and the place of what JSON cannot carry', async ({ expect }) => {
    const { frame } = await run('def main(args):\n    return {"rows": [1, {"tags": {"a", "b"}}]}\n', '');
    expect(frame.error).toMatchObject({ type: 'ResultError' });
    expect(frame.error.message).toBe('result is not JSON-serialisable: set at result["rows"][1]["tags"] (return str, int, float, bool, None, list, tuple or dict)');
    expect((await run('def main(args):\n    return b"x"\n', '')).frame.error.message).toMatch(/^result is not JSON-serialisable: bytes at result /);
  });
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

function post(port: number, token: string, body: string, requestId: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-faasctl-request': requestId };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/invoke', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function serve(source: string, env: Record<string, string>): Promise<{ call: (body: string, id: string) => Promise<any> }> {
  const port = await freePort();
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(dir, `token-${port}`);
  writeFileSync(tokenFile, `${token}\n`);
  const proc = spawn(PYTHON, runtimeArgv('serve'), {
    env: cleanEnv({ FAASCTL_PORT: String(port), FAASCTL_TOKEN_FILE: tokenFile, FAASCTL_CODE_FILE: writeFunction(source), FAASCTL_WORKERS: '1', ...env }),
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  servers.push(proc);
  const call = async (body: string, id: string) => {
    for (let i = 0; ; i++) {
      try {
        const reply = await post(port, token, body, id);
        if (reply.status === 200) return JSON.parse(reply.body);
      } catch (err) {
        if (i > 100) throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { call };
}

describe('python runtime: flavours on a warm replica', { timeout: 60_000 }, () => {
  it("gives a Lambda handler the caller's request id and the worker's deadline, and Lambda's error shape", async ({ expect }) => {
    const s = await serve(`${LAMBDA_CONTEXT}\n${LAMBDA_RAISES.replace('def handler', 'def raising')}`, {
      FAASCTL_FLAVOR: 'lambda',
      FAASCTL_ENTRY: 'lambda_handler',
      FAASCTL_TIMEOUT_MS: '3000',
      FAASCTL_FUNCTION_NAME: 'warmfn',
    });
    const a = await s.call('', 'req-warm-1');
    expect(a.status).toBe('success');
    expect(a.result).toMatchObject({ event: {}, requestId: 'req-warm-1', name: 'warmfn' });
    expect(a.result.remaining[0]).toBeLessThan(3000);
    expect(a.result.remaining[1]).toBeLessThan(a.result.remaining[0]);
    expect((await s.call('[1, 2]', 'req-warm-2')).result).toMatchObject({ event: [1, 2], requestId: 'req-warm-2' });
  });

  it('calls an OpenFaaS handle(req) with the body text', async ({ expect }) => {
    const s = await serve(OPENFAAS, { FAASCTL_FLAVOR: 'openfaas', FAASCTL_ENTRY: 'handle' });
    expect((await s.call('"hi"', 'r1')).result).toBe('got str: hi');
    expect((await s.call('{"n": 1}', 'r2')).result).toBe('got str: {"n": 1}');
  });

  it('answers a raising Lambda handler with both shapes', async ({ expect }) => {
    const s = await serve(LAMBDA_RAISES, { FAASCTL_FLAVOR: 'lambda', FAASCTL_ENTRY: 'handler' });
    const a = await s.call('{}', 'req-9');
    expect(a.error).toMatchObject({ type: 'KeyError', lambda: { errorType: 'KeyError', requestId: 'req-9' } });
    expect(a.error.traceback).not.toMatch(/faasctl_runtime/);
  });
});

const MID_LINE = `import sys
print("importing")

def main(args):
    sys.stdout.write("out, no newline")
    sys.stderr.write("err, no newline")
    return {"args": args}
`;

describe('python runtime: output and result never collide (issue 19)', { timeout: 60_000 }, () => {
  it('carries the partial lines the function wrote last in the frame, not the log', async ({ expect }) => {
    const { frame, stdout, stderr } = await run(MID_LINE, '[1]');
    expect(frame.result).toEqual({ args: [1] });
    expect(frame.output).toMatchObject({ bytes: 40, truncated: false });
    // Held at the return, a partial line travels in the frame (tails); held past the relay's idle
    // flush (which a slow machine can reach between the write and the return), it is in the log
    // and the frame names the newline the runtime added (lineEnds). Which one is timing; that the
    // reader gets exactly what was written, on each stream, is not.
    const rebuilt = (stream: 'stdout' | 'stderr', log: string) => {
      const ended = (frame.output.lineEnds ?? []).includes(stream) ? log.replace(/\n$/, '') : log;
      const tail = (frame.output.tails ?? []).find((t: { stream: string }) => t.stream === stream);
      return ended + (tail?.text ?? '');
    };
    expect(rebuilt('stdout', stdout)).toBe('importing\nout, no newline');
    expect(rebuilt('stderr', stderr)).toBe('err, no newline');
    const whole = await run('def main(args):\n    print("whole line")\n    return 1\n', '');
    expect(whole.frame.output).toEqual({ bytes: 11, truncated: false });
  });

  it('ends a stream left mid-line in the log with a newline the frame names', async ({ expect }) => {
    const progress = 'import sys, time\n\ndef main(args):\n    print("50%", end="", flush=True)\n    sys.stderr.write("working")\n    sys.stderr.flush()\n    time.sleep(0.3)\n    return "done"\n';
    const { frame, stdout, stderr } = await run(progress, '');
    expect(frame.result).toBe('done');
    expect(stdout).toBe('50%\n');
    expect(stderr).toBe('working\n');
    expect(frame.output).toEqual({ bytes: 10, truncated: false, lineEnds: ['stderr', 'stdout'] });
  });

  it("gives a warm worker's first answer what the module printed at import, and every answer its exact output", async ({ expect }) => {
    const s = await serve(MID_LINE, {});
    const first = await s.call('2', 'r1');
    expect(first.result).toEqual({ args: 2 });
    expect(first.output).toMatchObject({ text: 'importing\nout, no newlineerr, no newline', bytes: 40, truncated: false });
    const second = await s.call('3', 'r2');
    expect(second.output.text).toBe('out, no newlineerr, no newline');
  });
});
