import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

/**
 * Functions kept in a file: `export`, `apply` (diff, --dry-run, --prune) and `--env-file`,
 * through the built binary on the real Swarm and PostgreSQL.
 */
describe('apply and export', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { dir, file } = scratchDir('faasctl-apply-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 180_000 });
  const rows = (sql: string, params: unknown[] = []) => query(db.url, sql, params);
  const ok = async (args: string[], input?: string) => {
    const r = await cli(args, input);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const filesOf = (d: string) => Object.fromEntries(readdirSync(d).map((f) => [f, readFileSync(join(d, f), 'utf8')]));
  const versions = async () => Object.fromEntries((await rows('SELECT name, current_version FROM functions ORDER BY name')).map((r) => [r.name, r.current_version]));

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    expect((await runCli(['up'], { env, timeoutMs: 300_000 })).code).toBe(0);
    await ok(['user', 'create', 'apply-user', '--password-stdin'], 'apply-user-pass');
    await ok(['login', 'apply-user', '--password-stdin'], 'apply-user-pass');
    await ok(['secret', 'create', 'apikey'], 'not-in-any-file');
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('round-trips: export, delete, apply, export again gives the same files; secret values never in them', async () => {
    const envFile = file('prod.env', '# settings\nMODE=file\nLEVEL=3\n');
    await ok([
      'fn',
      'deploy',
      file('alpha.py', 'import os\ndef main(data):\n    return os.environ.get("MODE")\n'),
      '--env-file',
      envFile,
      '--env',
      'MODE=flag',
      '--secret',
      'apikey',
      '--memory',
      '512m',
      '--timeout',
      '1m',
    ]);
    await ok(['fn', 'deploy', file('beta.py', 'def handler(event, context):\n    return event\n'), '--constraint', 'node.role==manager', '--cpus', '0.5']);
    await ok(['fn', 'deploy', file('gamma.py', 'def main(data):\n    return 1\n'), '--warm', '1']);
    expect(JSON.parse((await ok(['fn', 'invoke', 'alpha'])).stdout)).toBe('flag'); // --env wins over its --env-file

    const first = join(dir, 'first');
    const exported = await ok(['export', '--dir', first]);
    expect(exported.stdout.trim().split('\n')).toEqual([join(first, 'faasctl.yaml'), join(first, 'alpha.py'), join(first, 'beta.py'), join(first, 'gamma.py')]);
    const before = filesOf(first);
    expect(before['faasctl.yaml']).toContain('secrets:\n      - apikey');
    expect(before['faasctl.yaml']).toMatch(/LEVEL: "3"\n\s+MODE: flag/);
    expect(JSON.stringify(before)).not.toContain('not-in-any-file');

    for (const n of ['alpha', 'beta', 'gamma']) await ok(['fn', 'delete', n]);
    const applied = await ok(['apply', '-f', join(first, 'faasctl.yaml')]);
    expect(applied.stdout).toMatch(/^\+ alpha: 512 MiB, 1 CPU, 60 s, env LEVEL MODE, secrets apikey\n\+ beta: 256 MiB, 0.5 CPU, 30 s\n\+ gamma: .*warm 1\n$/);
    const second = join(dir, 'second');
    await ok(['export', '--dir', second]);
    expect(filesOf(second)).toEqual(before);
    expect(JSON.parse((await ok(['fn', 'invoke', 'alpha'])).stdout)).toBe('flag');
    const [gamma] = await rows("SELECT warm_replicas FROM functions WHERE name = 'gamma'");
    expect(gamma!.warm_replicas).toBe(1);

    // Without --dir the code is inline: the YAML alone recreates the same functions.
    const inline = await ok(['export', 'beta']);
    expect(inline.stdout).toContain('source: |');
    const inlineFile = file('inline.yaml', inline.stdout);
    const again = await ok(['apply', '-f', inlineFile]);
    expect(again.stdout).toBe('= beta (unchanged)\n');
    expect(again.stderr).toContain('nothing to change');
    for (const n of ['alpha', 'beta', 'gamma']) await ok(['fn', 'delete', n]);
  });

  it('shows the difference, changes only what differs, --dry-run changes nothing, --prune deletes what left the file', async () => {
    const yaml = (timeout: string, extra = '') =>
      file(
        'fns.yaml',
        `functions:\n  one:\n    source: |\n      def main(data):\n          return 1\n    timeout: ${timeout}\n${extra}  two:\n    source: |\n      def main(data):\n          return 2\n`,
      );
    expect((await ok(['apply', '-f', yaml('30s')])).stdout).toBe('+ one: 256 MiB, 1 CPU, 30 s\n+ two: 256 MiB, 1 CPU, 30 s\n');
    await ok(['fn', 'deploy', file('stray.py', 'def main(data):\n    return 0\n')]);
    expect(await versions()).toEqual({ one: 1, stray: 1, two: 1 });

    const changed = yaml('2m', '    env:\n      NEW: "yes"\n');
    const dry = await ok(['apply', '-f', changed, '--dry-run', '--prune']);
    expect(dry.stdout).toBe('~ one: timeout 30 s → 120 s, env +NEW\n= two (unchanged)\n- stray\n');
    expect(dry.stderr).toContain('dry run: 0 to create, 1 to update, 1 to delete, 1 unchanged; nothing changed');
    expect(await versions()).toEqual({ one: 1, stray: 1, two: 1 });

    // Pruning asks; without a terminal only --yes answers, and nothing changes before that.
    const refused = await cli(['apply', '-f', changed, '--prune']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/--yes/);
    expect(await versions()).toEqual({ one: 1, stray: 1, two: 1 });

    const json = await ok(['--json', 'apply', '-f', changed, '--prune', '--yes']);
    expect(JSON.parse(json.stdout)).toEqual({
      dryRun: false,
      changes: [
        { name: 'one', action: 'update', fields: ['timeout 30 s → 120 s', 'env +NEW'] },
        { name: 'two', action: 'unchanged', fields: [] },
        { name: 'stray', action: 'delete', fields: [] },
      ],
      schedules: [],
      applied: [
        { kind: 'function', name: 'one', action: 'update', version: 2 },
        { kind: 'function', name: 'stray', action: 'delete' },
      ],
    });
    expect(await versions()).toEqual({ one: 2, two: 1 });
    const [v2] = await rows("SELECT v.timeout_ms, v.env FROM function_versions v JOIN functions f ON f.id = v.function_id WHERE f.name = 'one' AND v.version = 2");
    expect(v2).toMatchObject({ timeout_ms: 120_000, env: { NEW: 'yes' } });
    const same = await ok(['apply', '-f', changed, '-q']);
    expect(same.stdout).toBe('');
    expect(await versions()).toEqual({ one: 2, two: 1 });
    for (const n of ['one', 'two']) await ok(['fn', 'delete', n]);
  });

  it('round-trips a directory function as its zip and the dispatch policy; a policy change makes no version', async () => {
    const pkg = join(dir, 'pkg');
    mkdirSync(join(pkg, 'lib'), { recursive: true });
    writeFileSync(join(pkg, 'main.py'), 'from lib.helper import double\ndef main(data):\n    return double(data["n"])\n');
    writeFileSync(join(pkg, 'lib', '__init__.py'), '');
    writeFileSync(join(pkg, 'lib', 'helper.py'), 'def double(n):\n    return 2 * n\n');
    await ok(['fn', 'deploy', pkg]);
    await ok(['fn', 'policy', 'pkg', '--retries', '4', '--max-concurrency', '3', '--max-event-age', '1h']);

    const inline = await cli(['--json', 'export', 'pkg']);
    expect(inline.code).toBe(2);
    expect(JSON.parse(inline.stdout)).toMatchObject({ error: { code: 'needs_dir' } });
    const bytesOf = (d: string) => Object.fromEntries(readdirSync(d).map((f) => [f, readFileSync(join(d, f)).toString('base64')]));
    const first = join(dir, 'zipped1');
    await ok(['export', '--dir', first, 'pkg']);
    const yaml = readFileSync(join(first, 'faasctl.yaml'), 'utf8');
    expect(yaml).toMatch(/code: pkg\.zip\n/);
    expect(yaml).toMatch(/retries: 4\n\s+maxEventAge: 1h\n\s+maxConcurrency: 3\n/);
    expect((await ok(['apply', '-f', join(first, 'faasctl.yaml')])).stdout).toBe('= pkg (unchanged)\n');

    await ok(['fn', 'delete', 'pkg']);
    expect((await ok(['apply', '-f', join(first, 'faasctl.yaml')])).stdout).toMatch(/^\+ pkg: 256 MiB, 1 CPU, 30 s, retries default → 4, maxEventAge default → 1h, maxConcurrency default → 3\n$/);
    const second = join(dir, 'zipped2');
    await ok(['export', '--dir', second, 'pkg']);
    expect(bytesOf(second)).toEqual(bytesOf(first));
    expect(JSON.parse((await ok(['fn', 'invoke', 'pkg', '--data', '{"n": 21}'])).stdout)).toBe(42);

    writeFileSync(join(first, 'faasctl.yaml'), yaml.replace('retries: 4', 'retries: 1').replace(/\s+maxConcurrency: 3\n/, '\n'));
    expect((await ok(['apply', '-f', join(first, 'faasctl.yaml')])).stdout).toBe('~ pkg: retries 4 → 1, maxConcurrency 3 → default\n');
    expect(await versions()).toEqual({ pkg: 1 });
    expect(JSON.parse((await ok(['--json', 'fn', 'policy', 'pkg'])).stdout)).toMatchObject({ retries: 1, maxConcurrency: null });
    await ok(['fn', 'delete', 'pkg']);
  });

  it('names file:line:col for YAML, schema and value errors, and changes nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      ['functions:\n  one:\n    source: "x\n', /^error: \S+bad\.yaml:4:1: Missing closing "quote/],
      ['functions:\n  one: [\n', /^error: \S+bad\.yaml:\d+:\d+: /],
      ['functions:\n  one:\n    source: |\n      def main(d): return 1\n    memroy: 1g\n', /^error: \S+bad\.yaml:5:5: functions\.one: Unrecognized key: "memroy"/],
      ['functions:\n  one:\n    source: |\n      def main(d): return 1\n    memory: lots\n', /^error: \S+bad\.yaml:5:13: invalid --memory "lots"/],
      ['functions:\n  one:\n    source: |\n      def main(d): return 1\n    warm:\n      replicas: -1\n', /^error: \S+bad\.yaml:6:17: functions\.one\.warm\.replicas: /],
      ['functions:\n  Bad_Name:\n    source: "def main(d): return 1"\n', /^error: \S+bad\.yaml:2:3: /],
      ['functions:\n  one:\n    code: missing.py\n', /^error: \S+bad\.yaml:3:11: cannot read /],
      ['functions:\n  one:\n    source: "def main(d): return 1"\n    retries: 11\n', /^error: \S+bad\.yaml:4:14: functions\.one\.retries: /],
      ['functions: {}\nschedules:\n  s1:\n    function: one\n    cron: "61 * * * *"\n', /^error: \S+bad\.yaml:5:11: invalid --cron "61 \* \* \* \*"/],
      ['functions: {}\nschedules:\n  s1:\n    function: one\n    every: 1h\n    at: 2030-01-01T00:00Z\n', /^error: \S+bad\.yaml:4:5: schedules\.s1: give exactly one of cron, every or at/],
      ['functions: {}\nschedules:\n  s1:\n    function: one\n    cron: "0 3 * * *"\n', /^error: schedule "s1" runs function "one", which the file does not define and you have not deployed/],
      ['functions:\n  one:\n    source: "def main(d): return 1"\n    envFiles: [bad.env]\n', /^error: \S+bad\.yaml:4:16: \S+bad\.env:2:1: expected KEY=VALUE/],
    ];
    file('bad.env', 'OK=1\nnot a pair\n');
    for (const [text, expected] of cases) {
      const r = await cli(['apply', '-f', file('bad.yaml', text)]);
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(expected);
    }
    expect(await rows('SELECT name FROM functions')).toEqual([]);
    const badEnv = await cli(['fn', 'run', file('envfn.py', 'def main(d):\n    return 1\n'), '--env-file', join(dir, 'bad.env')]);
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/bad\.env:2:1: expected KEY=VALUE/);
  });

  it('--env-file on fn run and fn update', async () => {
    const code = file('showenv.py', 'import os\ndef main(data):\n    return {k: os.environ.get(k) for k in ("A", "B")}\n');
    const envFile = file('run.env', 'A=from-file\nB=from-file\n');
    const r = await ok(['--json', 'fn', 'run', code, '--env-file', envFile, '--env', 'B=flag']);
    expect(JSON.parse(r.stdout).result).toEqual({ A: 'from-file', B: 'flag' });
    await ok(['fn', 'deploy', code]);
    await ok(['fn', 'update', 'showenv', '--env-file', envFile]);
    expect(JSON.parse((await ok(['fn', 'invoke', 'showenv'])).stdout)).toEqual({ A: 'from-file', B: 'from-file' });
    await ok(['fn', 'delete', 'showenv']);
  });
});
