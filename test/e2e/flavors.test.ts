import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliResult, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

/** Written in AWS Lambda's style: reads its context twice, a little apart. */
const LAMBDA_CONTEXT = `import time

def lambda_handler(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.2)
    return {
        "event": event,
        "requestId": context.aws_request_id,
        "name": context.function_name,
        "version": context.function_version,
        "arn": context.invoked_function_arn,
        "memoryMb": context.memory_limit_in_mb,
        "remaining": [first, context.get_remaining_time_in_millis()],
    }
`;

/** A Lambda handler that fails in a helper of its own. */
const LAMBDA_RAISES = `def parse_order(event):
    return int(event["quantity"])

def handler(event, context):
    return {"quantity": parse_order(event)}
`;

/** OpenFaaS classic: the body as text in, the body out; a secret where OpenFaaS keeps them. */
const OPENFAAS = `import os

def handle(req):
    path = "/var/openfaas/secrets/greeting"
    greeting = open(path).read() if os.path.exists(path) else "hello"
    return "%s, %s (%d characters)" % (greeting, req, len(req))
`;

/** OpenFaaS classic reading the watchdog's variables, and OpenWhisk's, as those platforms set them. */
const OPENFAAS_HEADERS = `import os

def handle(req):
    seen = {k: v for k, v in os.environ.items() if k.startswith("Http_")}
    return {"body": req, "http": seen, "activation": os.environ.get("__OW_ACTIVATION_ID"),
            "action": os.environ.get("__OW_ACTION_NAME"), "deadline": int(os.environ.get("__OW_DEADLINE", "0"))}
`;

/** Prints at import; returns right after writing to both streams without a newline. */
const MID_LINE = `import sys
print("importing")

def main(args):
    sys.stdout.write("out, no newline")
    sys.stderr.write("err, no newline")
    return {"args": args}
`;

/**
 * Handler flavours (issue 19) through the built binary on the real Swarm and PostgreSQL:
 * Lambda and OpenFaaS handlers run cold, warm and under fn run; a wrong signature is refused
 * at deploy; inputs and results are any JSON value; output and result never collide.
 */
describe('handler flavours through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-flavors-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 120_000 });
  const ok = (r: CliResult) => {
    // With --json the error is on stdout.
    expect(r.code, `${r.stderr}${r.stdout}`).toBe(0);
    return r;
  };
  const json = async (args: string[], input?: string) => JSON.parse(ok(await cli(['--json', ...args], input)).stdout);
  const rows = (sql: string, params: unknown[] = []) => query(db.url, sql, params);

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'flavor-user', '--password-stdin'], 'flavor-user-pass'));
    ok(await cli(['login', 'flavor-user', '--password-stdin'], 'flavor-user-pass'));
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('runs a Lambda handler with a context: our request id, a deadline counting down, cold, warm and fn run', async () => {
    const path = file('orders.py', LAMBDA_CONTEXT);
    const deployed = await json(['fn', 'deploy', path, '--timeout', '10s', '--memory', '128m']);
    expect(deployed).toMatchObject({ name: 'orders', flavor: 'lambda', format: 'lambda', entry: 'lambda_handler' });
    const shown = await json(['fn', 'show', 'orders', '--no-code']);
    expect(shown).toMatchObject({ flavor: 'lambda', entry: 'lambda_handler' });
    expect(ok(await cli(['fn', 'show', 'orders'])).stdout).toMatch(/entry\s+lambda_handler\(event, context\) \(lambda\)/);

    const check = (answer: { requestId: string; result: Record<string, any> }, event: unknown) => {
      const r = answer.result;
      expect(r).toMatchObject({ event, requestId: answer.requestId, name: 'orders', version: '1', memoryMb: 128 });
      expect(r.arn).toMatch(/^arn:faasctl:lambda:local:[0-9a-f]+:function:orders:1$/);
      const [first, second] = r.remaining as [number, number];
      expect(first).toBeLessThan(10_000);
      expect(first).toBeGreaterThan(5_000);
      expect(second).toBeLessThanOrEqual(first - 150);
    };
    // No input arrives as {}, as on Lambda.
    check(await json(['fn', 'invoke', 'orders']), {});
    check(await json(['fn', 'invoke', 'orders', '--data', '[1, 2]']), [1, 2]);

    ok(await cli(['fn', 'scale', 'orders', '1', '--workers', '1']));
    const warm = await json(['fn', 'invoke', 'orders', '--data', '{"id": 7}']);
    expect(warm.mode).toBe('warm');
    check(warm, { id: 7 });

    const local = await json(['fn', 'run', path, '--data', '"x"']);
    // fn run stores nothing: its context names the run (the container's io.faasctl.request label).
    expect(local.result).toMatchObject({ event: 'x', name: 'orders', version: '0', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    ok(await cli(['fn', 'delete', 'orders']));
  });

  it("reports a raising Lambda handler in Lambda's shape as well as ours, from the user's file, exit 6", async () => {
    ok(await cli(['fn', 'deploy', file('quantity.py', LAMBDA_RAISES)]));
    const r = await cli(['--json', 'fn', 'invoke', 'quantity', '--data', '{"quantity": "many"}']);
    expect(r.code).toBe(6);
    const answer = JSON.parse(r.stdout);
    expect(answer).toMatchObject({ status: 'application_error', error: { type: 'ValueError', message: "invalid literal for int() with base 10: 'many'" } });
    expect(answer.error.lambda).toMatchObject({ errorType: 'ValueError', errorMessage: "invalid literal for int() with base 10: 'many'", requestId: answer.requestId });
    expect(answer.error.lambda.stackTrace.join('\n')).toMatch(/function\.py", line 2, in parse_order/);
    expect(answer.error.traceback).toMatch(/line 5, in handler/);
    expect(answer.error.traceback).not.toMatch(/faasctl_runtime/);
    const human = await cli(['fn', 'invoke', 'quantity', '--data', '{"quantity": "x"}']);
    expect(human.code).toBe(6);
    expect(human.stderr).toMatch(/ValueError: invalid literal/);
    ok(await cli(['fn', 'delete', 'quantity']));
  });

  it('hands an OpenFaaS handle(req) the body as text, and its secrets where OpenFaaS keeps them', async () => {
    ok(await cli(['secret', 'create', 'greeting'], 'bonjour'));
    const deployed = await json(['fn', 'deploy', file('greet.py', OPENFAAS), '--secret', 'greeting']);
    expect(deployed).toMatchObject({ flavor: 'openfaas', entry: 'handle' });
    expect(await json(['fn', 'invoke', 'greet', '--data', '"Ada"'])).toMatchObject({ status: 'success', result: 'bonjour, Ada (3 characters)' });
    expect((await json(['fn', 'invoke', 'greet', '--data', '{"name": "Ada"}'])).result).toBe('bonjour, {"name": "Ada"} (15 characters)');
    ok(await cli(['fn', 'scale', 'greet', '1', '--workers', '1']));
    expect(await json(['fn', 'invoke', 'greet', '--data', '"Grace"'])).toMatchObject({ mode: 'warm', result: 'bonjour, Grace (5 characters)' });
    ok(await cli(['fn', 'delete', 'greet']));
    ok(await cli(['secret', 'rm', 'greeting']));
  });

  it('refuses a handler whose parameters do not fit its flavour at deploy, storing nothing', async () => {
    const r = await cli(['fn', 'deploy', file('onearg.py', 'def lambda_handler(event):\n    return event\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error: the lambda flavour calls lambda_handler(event, context), but lambda_handler takes 1 positional parameter');
    const forced = await cli(['--json', 'fn', 'deploy', file('forced.py', 'def main(data):\n    return data\n'), '--flavor', 'lambda']);
    expect(forced.code).toBe(2);
    expect(JSON.parse(forced.stdout).error).toMatchObject({ code: 'signature_mismatch', message: 'the lambda flavour calls main(event, context), but main takes 1 positional parameter' });
    expect((await cli(['fn', 'deploy', file('badflag.py', 'def main(data):\n    return data\n'), '--flavor', 'azure'])).code).toBe(2);
    expect(await rows('SELECT name FROM functions')).toEqual([]);
    expect(await rows('SELECT 1 FROM function_versions')).toEqual([]);
  });

  it('overrides the flavour with --flavor on deploy and update', async () => {
    const path = file('both.py', 'def main(event, context=None):\n    return {"ctx": context is not None, "event": event}\n');
    expect(await json(['fn', 'deploy', path])).toMatchObject({ flavor: 'main' });
    expect((await json(['fn', 'invoke', 'both', '--data', '1'])).result).toEqual({ ctx: false, event: 1 });
    expect(await json(['fn', 'update', 'both', '--flavor', 'lambda'])).toMatchObject({ flavor: 'lambda', version: 2, outcome: 'updated' });
    expect((await json(['fn', 'invoke', 'both', '--data', '1'])).result).toEqual({ ctx: true, event: 1 });
    // A limit changed later keeps the flavour.
    expect(await json(['fn', 'update', 'both', '--memory', '128m'])).toMatchObject({ flavor: 'lambda', version: 3 });
    expect((await json(['fn', 'versions', 'both'])).map((v: { flavor: string }) => v.flavor)).toEqual(['main', 'lambda', 'lambda']);
    ok(await cli(['fn', 'delete', 'both']));
  });

  it('takes any JSON value in and gives any JSON value back; a tuple becomes a list', async () => {
    ok(await cli(['fn', 'deploy', file('echo.py', 'def main(args):\n    return args\n')]));
    for (const value of [42, 'text', [1, 'two', null], null, 2.5, false]) {
      const r = ok(await cli(['fn', 'invoke', 'echo', '--data', JSON.stringify(value)]));
      expect(JSON.parse(r.stdout)).toEqual(value);
    }
    ok(await cli(['fn', 'deploy', file('pair.py', 'def main(args):\n    return (args, (1, 2))\n')]));
    expect(JSON.parse(ok(await cli(['fn', 'invoke', 'pair', '--data', '"a"'])).stdout)).toEqual(['a', [1, 2]]);
    ok(await cli(['fn', 'deploy', file('setty.py', 'def main(args):\n    return {"ids": [1, {2, 3}]}\n')]));
    const bad = await cli(['--json', 'fn', 'invoke', 'setty']);
    expect(bad.code).toBe(6);
    expect(JSON.parse(bad.stdout)).toMatchObject({ status: 'developer_error', error: { type: 'ResultError', message: expect.stringContaining('set at result["ids"][1]') } });
    for (const name of ['echo', 'pair', 'setty']) ok(await cli(['fn', 'delete', name]));
  });

  it('brings back all output and the exact result when the function stops mid-line: cold, warm and fn run', async () => {
    const path = file('midline.py', MID_LINE);
    ok(await cli(['fn', 'deploy', path]));
    /** The function's output, whichever of its two streams came first: each piece once, no newline added. */
    const exact = (output: string) => {
      expect(output).toContain('err, no newline');
      expect(output.replace('err, no newline', '')).toBe('importing\nout, no newline');
    };
    const cold = ok(await cli(['fn', 'invoke', 'midline', '--data', '[1]']));
    expect(JSON.parse(cold.stdout)).toEqual({ args: [1] });
    exact(cold.stderr.replace(/^request [0-9a-f-]{36}: faasctl request wait [0-9a-f-]{36}\n/, ''));
    const coldJson = await json(['fn', 'invoke', 'midline', '--data', '"s"']);
    expect(coldJson).toMatchObject({ status: 'success', result: { args: 's' }, outputTruncated: false });
    exact((await json(['request', 'show', coldJson.requestId])).output);

    ok(await cli(['fn', 'scale', 'midline', '1', '--workers', '1']));
    const warm = await json(['fn', 'invoke', 'midline', '--data', 'null']);
    expect(warm).toMatchObject({ mode: 'warm', result: { args: null } });
    // The worker imported the module before this call: its first answer carries that print.
    expect((await json(['request', 'show', warm.requestId])).output).toBe('importing\nout, no newlineerr, no newline');
    const again = await cli(['fn', 'invoke', 'midline', '--data', '2']);
    expect(JSON.parse(again.stdout)).toEqual({ args: 2 });
    expect(again.stderr).toBe('out, no newlineerr, no newline');

    const local = ok(await cli(['fn', 'run', path, '--data', '{"k": 1}']));
    expect(JSON.parse(local.stdout)).toEqual({ args: { k: 1 } });
    exact(local.stderr);
    ok(await cli(['fn', 'delete', 'midline']));
  });

  it("gives an OpenFaaS handler an HTTP-shaped input's headers as Http_* and its body as req, and every call OpenWhisk's __OW_* variables, cold and warm", async () => {
    ok(await cli(['fn', 'deploy', file('hooks.py', OPENFAAS_HEADERS), '--timeout', '20s']));
    const request = { headers: { 'Content-Type': 'application/json', 'x-github-event': 'push' }, body: { ref: 'main' }, method: 'POST', path: '/hooks', query: { dry: '1' } };
    const check = (answer: { requestId: string; result: Record<string, any> }, before: number) => {
      expect(answer.result).toMatchObject({
        body: '{"ref": "main"}',
        http: { Http_Content_Type: 'application/json', Http_X_Github_Event: 'push', Http_Method: 'POST', Http_Path: '/hooks', Http_Query: 'dry=1' },
        activation: answer.requestId,
        action: '/_/hooks',
      });
      // The deadline is the call's own: after it started, within its 20 s timeout.
      expect(answer.result.deadline).toBeGreaterThan(before);
      expect(answer.result.deadline).toBeLessThanOrEqual(Date.now() + 20_000);
    };
    let before = Date.now();
    check(await json(['fn', 'invoke', 'hooks', '--data', JSON.stringify(request)]), before);
    ok(await cli(['fn', 'scale', 'hooks', '1', '--workers', '1']));
    before = Date.now();
    check(await json(['fn', 'invoke', 'hooks', '--data', JSON.stringify(request)]), before);
    // The same worker's next call, without headers, sees none of the last call's variables.
    const plain = await json(['fn', 'invoke', 'hooks', '--data', '"just text"']);
    expect(plain).toMatchObject({ mode: 'warm', result: { body: 'just text', http: {}, activation: plain.requestId } });
    ok(await cli(['fn', 'delete', 'hooks']));
  });
});
