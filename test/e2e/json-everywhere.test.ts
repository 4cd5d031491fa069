import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { cleansUpAfterEach } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

interface Described {
  command: string;
  commands: { name: string }[];
}

/** What `--json` must give: one document, NDJSON (bulk), or a refusal with exit 2. */
type Shape = 'document' | 'ndjson' | 'refused';

interface Form {
  /** A function when the form needs what an earlier form answered. */
  args: string[] | (() => string[]);
  input?: string;
  exit: number[];
  shape?: Shape;
}

/**
 * `--json` on every command of the tree, walked from the binary's own `--help --json`, so a
 * command added later without a form here fails this test. Each form runs for real where
 * that is cheap (the platform is up, a user is logged in, a function is deployed).
 */
describe('--json on every command', () => {
  let env: Record<string, string | undefined>;
  const { dir, file } = scratchDir('faasctl-json-');
  const cli = (args: string[], input?: string) => runCli(['--json', ...args], { env, input, timeoutMs: 120_000 });
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    expect((await runCli(['up'], { env, timeoutMs: 300_000 })).code).toBe(0);
    expect((await cli(['user', 'create', 'json-user', '--password-stdin'], 'json-user-pass')).code).toBe(0);
    expect((await cli(['login', 'json-user', '--password-stdin'], 'json-user-pass')).code).toBe(0);
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('answers --version and --help with documents, and a group without its subcommand with a usage error', async () => {
    const version = await runCli(['--version', '--json']);
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    // After `--` the word is an argument, not faasctl's flag.
    expect((await runCli(['-v', '--', '--json'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const group = await runCli(['--json', 'fn'], { env: isolatedEnv() });
    expect(group.code).toBe(2);
    expect(JSON.parse(group.stdout).error).toMatchObject({ code: 'usage', exitCode: 2 });
  });

  it('gives one JSON document (or documented NDJSON, or a refusal with exit 2) for every command', async () => {
    const code = file('jsonfn.py', 'def main(data):\n    print("working")\n    return {"n": data.get("n", 0) * 2}\n');
    const v2 = file('jsonfn2.py', 'def main(data):\n    return {"n": data.get("n", 0) * 3}\n');
    const bulk = file('inputs.jsonl', '{"n": 1}\n{"n": 2}\n');
    const manifest = file('fns.yaml', 'functions:\n  jsonapply:\n    source: "def main(d): return 1"\n');
    let asyncId = '';
    const forms: Record<string, Form[]> = {
      'faasctl up': [{ args: ['up'], exit: [0] }],
      'faasctl doctor': [{ args: ['doctor'], exit: [0, 3] }],
      'faasctl context add': [{ args: ['context', 'add', 'jsonctx', '--host', 'tcp://192.0.2.1:2376'], exit: [0] }],
      'faasctl context ls': [{ args: ['context', 'ls'], exit: [0] }],
      'faasctl context use': [{ args: ['context', 'use', 'default'], exit: [0] }],
      'faasctl context show': [{ args: ['context', 'show'], exit: [0] }],
      'faasctl context rm': [{ args: ['context', 'rm', 'jsonctx'], exit: [0] }],
      'faasctl whoami': [{ args: ['whoami'], exit: [0] }],
      'faasctl user create': [{ args: ['user', 'create', 'json-other', '--password-stdin'], input: 'json-other-pass', exit: [0] }],
      'faasctl user list': [{ args: ['user', 'list'], exit: [0] }],
      'faasctl user show': [{ args: ['user', 'show', 'json-other'], exit: [0] }],
      'faasctl user update': [{ args: ['user', 'update', '--name', 'Not A Name'], exit: [2] }],
      'faasctl user delete': [{ args: ['user', 'delete', '--prefix', 'json-other', '--yes'], exit: [0] }],
      'faasctl secret create': [{ args: ['secret', 'create', 'json-secret'], input: 's3cret', exit: [0] }],
      'faasctl secret list': [{ args: ['secret', 'list'], exit: [0] }],
      'faasctl secret delete': [{ args: ['secret', 'delete', 'json-secret'], exit: [0] }],
      'faasctl fn new': [{ args: ['fn', 'new', 'skeleton', '--dir', dir], exit: [0] }],
      'faasctl fn run': [{ args: ['fn', 'run', code, '--data', '{"n": 2}'], exit: [0] }],
      'faasctl fn deploy': [{ args: ['fn', 'deploy', code], exit: [0] }],
      'faasctl fn update': [{ args: ['fn', 'update', 'jsonfn', v2], exit: [0] }],
      'faasctl fn rollback': [{ args: ['fn', 'rollback', 'jsonfn'], exit: [0] }],
      'faasctl fn versions': [{ args: ['fn', 'versions', 'jsonfn'], exit: [0] }],
      'faasctl token create': [{ args: ['token', 'create', '--fn', 'jsonfn', '--name', 'json-token'], exit: [0] }],
      'faasctl token list': [{ args: ['token', 'list'], exit: [0] }],
      'faasctl token revoke': [{ args: ['token', 'revoke', 'json-token'], exit: [0] }],
      'faasctl fn list': [{ args: ['fn', 'list'], exit: [0] }],
      'faasctl fn show': [{ args: ['fn', 'show', 'jsonfn'], exit: [0] }],
      'faasctl fn invoke': [
        { args: ['fn', 'invoke', 'jsonfn', '--data', '{"n": 4}'], exit: [0] },
        { args: ['fn', 'invoke', 'jsonfn', '--bulk', bulk], exit: [0], shape: 'ndjson' },
        { args: ['fn', 'invoke', 'jsonfn', '--data', '{"n": 5}', '--async'], exit: [0] },
      ],
      'faasctl fn scale': [{ args: ['fn', 'scale', 'jsonfn', '0'], exit: [0] }],
      'faasctl fn policy': [{ args: ['fn', 'policy', 'jsonfn', '--retries', '3', '--max-concurrency', '4'], exit: [0] }],
      'faasctl dlq list': [{ args: ['dlq', 'list'], exit: [0] }],
      // Without a dispatcher (this installation has none) a redrive is refused, as a document.
      'faasctl dlq redrive': [{ args: ['dlq', 'redrive', '00000000-0000-4000-8000-000000000000'], exit: [2] }],
      'faasctl dlq purge': [{ args: ['dlq', 'purge', '--all'], exit: [0] }],
      // Without a dispatcher a schedule is refused, as a document (test/e2e/schedules.test.ts has the rest for real).
      'faasctl schedule create': [{ args: ['schedule', 'create', 'jsonsched', '--fn', 'jsonfn', '--every', '1m'], exit: [2] }],
      'faasctl schedule list': [{ args: ['schedule', 'list'], exit: [0] }],
      'faasctl schedule show': [{ args: ['schedule', 'show', 'jsonsched'], exit: [3] }],
      'faasctl schedule history': [{ args: ['schedule', 'history', 'jsonsched'], exit: [3] }],
      'faasctl schedule update': [{ args: ['schedule', 'update', 'jsonsched', '--overlap', 'queue'], exit: [3] }],
      'faasctl schedule pause': [{ args: ['schedule', 'pause', 'jsonsched'], exit: [3] }],
      'faasctl schedule resume': [{ args: ['schedule', 'resume', 'jsonsched'], exit: [3] }],
      'faasctl schedule delete': [{ args: ['schedule', 'delete', 'jsonsched'], exit: [3] }],
      // Long-running: its events are NDJSON on stderr; a bad flag is the one-document form.
      'faasctl dispatcher': [{ args: ['dispatcher', '--parallel', '0'], exit: [2] }],
      'faasctl request list': [{ args: ['request', 'list'], exit: [0] }],
      'faasctl request show': [
        { args: () => ['request', 'show', asyncId], exit: [0] },
        { args: ['request', 'show', '00000000-0000-4000-8000-000000000000'], exit: [3] },
      ],
      'faasctl request wait': [{ args: () => ['request', 'wait', asyncId], exit: [0] }],
      // It ended above: the refusal is a document too.
      'faasctl request cancel': [{ args: () => ['request', 'cancel', asyncId], exit: [3] }],
      'faasctl logs': [{ args: ['logs', 'jsonfn', '--tail', '3'], exit: [0] }],
      'faasctl export': [{ args: ['export', 'jsonfn'], exit: [0] }],
      'faasctl apply': [{ args: ['apply', '-f', manifest, '--dry-run'], exit: [0] }],
      'faasctl stats': [{ args: ['stats'], exit: [0] }],
      'faasctl top': [{ args: ['top'], exit: [0] }],
      'faasctl report': [{ args: ['report', '--out', `${dir}/report.html`], exit: [0] }],
      'faasctl fn delete': [{ args: ['fn', 'delete', 'jsonfn', '--yes'], exit: [0] }],
      'faasctl pool show': [{ args: ['pool', 'show'], exit: [0] }],
      // Starting a pool costs containers (test/e2e/pool.test.ts does); a bad size is the refusal form.
      'faasctl pool resize': [{ args: ['pool', 'resize', 'many'], exit: [2] }],
      'faasctl pool drain': [{ args: ['pool', 'drain'], exit: [0] }],
      'faasctl gc': [{ args: ['gc'], exit: [0] }],
      'faasctl completion': [{ args: ['completion', 'bash'], exit: [2], shape: 'refused' }],
      'faasctl menu': [{ args: ['menu'], exit: [2], shape: 'refused' }],
      'faasctl logout': [{ args: ['logout'], exit: [0] }],
      'faasctl login': [{ args: ['login', 'json-user', '--password-stdin'], input: 'json-user-pass', exit: [0] }],
    };

    const leaves = await commandTree([]);
    // The implicit `help` commands are forms of --help, checked by the walk itself.
    const commands = leaves.filter((path) => !path.endsWith(' help'));
    expect(
      commands.filter((path) => !(path in forms)),
      'commands without a --json form in this test',
    ).toEqual([]);
    expect(
      Object.keys(forms).filter((path) => !commands.includes(path)),
      'forms of commands that no longer exist',
    ).toEqual([]);

    for (const [path, list] of Object.entries(forms)) {
      for (const form of list) {
        const args = typeof form.args === 'function' ? form.args() : form.args;
        const r = await cli(args, form.input);
        const what = `${path} (${args.join(' ')}): ${r.stderr}`;
        expect(form.exit, what).toContain(r.code);
        expectJson(r, form.shape ?? 'document', what);
        if (args.includes('--async')) asyncId = JSON.parse(r.stdout).requestId;
      }
    }
    expect(readFileSync(`${dir}/report.html`, 'utf8')).toContain('<html');
  });

  /** Every leaf command path, walked through the binary's `--help --json`. */
  async function commandTree(path: string[]): Promise<string[]> {
    const r = await runCli([...path, '--help', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const described = JSON.parse(r.stdout) as Described;
    if (described.commands.length === 0) return [described.command];
    const paths: string[] = [];
    for (const sub of described.commands) {
      if (sub.name === 'help') paths.push(`${described.command} help`);
      else paths.push(...(await commandTree([...path, sub.name])));
    }
    return paths;
  }
});

function expectJson(r: CliResult, shape: Shape, what: string): void {
  expect(r.stdout.endsWith('\n'), what).toBe(true);
  if (shape === 'ndjson') {
    const lines = r.stdout.trimEnd().split('\n');
    for (const line of lines) expect(() => JSON.parse(line), `${what}: ${line}`).not.toThrow();
    return;
  }
  const doc = JSON.parse(r.stdout) as { error?: { code: string; exitCode: number } };
  if (shape === 'refused') expect(doc.error, what).toMatchObject({ code: 'json_unsupported', exitCode: 2 });
}
