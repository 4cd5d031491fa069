import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { TmuxSession } from '../helpers/tmux.js';

/**
 * Output that fits: tables in a real 80-column terminal (tmux) hold short ids and relative
 * times and no line wraps; piped, the same commands give whole ids and ISO times; -q gives
 * only ids or names; a unique id prefix is accepted wherever a request id is.
 */
describe('output that fits a terminal', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-fits-');
  const sessions: TmuxSession[] = [];
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 120_000 });
  const rows = (sql: string, params: unknown[] = []) => query(db.url, sql, params);
  const ok = async (args: string[], input?: string) => {
    const r = await cli(args, input);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  /** The command in an 80×24 terminal: its whole screen once it exited 0. */
  const at80 = async (args: string[]) => {
    const t = new TmuxSession(args, env, { columns: 80, rows: 24 });
    sessions.push(t);
    expect(await t.waitForExit(30_000), t.screen()).toBe(0);
    return t.screen();
  };
  const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    expect((await runCli(['up'], { env, timeoutMs: 300_000 })).code).toBe(0);
    await ok(['user', 'create', 'fits-user', '--password-stdin'], 'fits-user-pass');
    await ok(['login', 'fits-user', '--password-stdin'], 'fits-user-pass');
    await ok(['fn', 'deploy', file('a-rather-long-function-name.py', 'def main(data):\n    return data\n'), '--flavor', 'openfaas', '--entry', 'main']);
    await ok(['fn', 'update', 'a-rather-long-function-name', '--timeout', '45s']);
    for (const n of [1, 2]) await ok(['fn', 'invoke', 'a-rather-long-function-name', '--data', String(n)]);
    await cli(['fn', 'invoke', 'a-rather-long-function-name', '--data', '{"x": 1']); // refused input: exit 2, no row
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) s.kill();
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('fits request list, fn list, fn versions and stats in 80 columns with short ids and relative times; piped, values are whole', async () => {
    const ids = (await rows("SELECT id FROM requests WHERE type = 'fn.invoke' ORDER BY created_at")).map((r) => r.id as string);
    for (const args of [['request', 'list'], ['fn', 'list'], ['fn', 'versions', 'a-rather-long-function-name'], ['stats']]) {
      const screen = await at80(args);
      const lines = screen.split('\n').filter((l) => l.trim() && !l.startsWith('Pane is dead'));
      expect(Math.max(...lines.map((l) => l.length)), `${args.join(' ')}:\n${screen}`).toBeLessThanOrEqual(80);
      expect(screen, args.join(' ')).not.toMatch(ISO);
      expect(screen, args.join(' ')).not.toMatch(UUID);
    }
    const requests = await at80(['request', 'list']);
    for (const id of ids) expect(requests).toMatch(new RegExp(`^ ?${id.slice(0, 12)}  .*(just now|\\d+ s ago|\\d+ min ago)\\s*$`, 'm'));

    const piped = await ok(['request', 'list']);
    for (const id of ids) expect(piped.stdout).toMatch(new RegExp(`^${id}\\t.*\\t${ISO.source}`, 'm'));
    const sha = (await rows('SELECT sha256 FROM function_versions LIMIT 1'))[0]!.sha256 as string;
    expect((await ok(['fn', 'list'])).stdout).toContain(`\t${sha}\t`);
    expect((await ok(['fn', 'versions', 'a-rather-long-function-name'])).stdout).toMatch(ISO);
  });

  it('-q prints only ids or names on every listing command, and on the ones that create', async () => {
    const ids = (await rows('SELECT id FROM requests WHERE user_id IS NOT NULL ORDER BY created_at DESC, id')).map((r) => r.id as string);
    expect((await ok(['request', 'list', '-q'])).stdout).toBe(`${ids.join('\n')}\n`);
    expect((await ok(['fn', 'list', '-q'])).stdout).toBe('a-rather-long-function-name\n');
    expect((await ok(['fn', 'versions', 'a-rather-long-function-name', '-q'])).stdout).toBe('1\n2\n');
    expect((await ok(['stats', '-q'])).stdout).toBe('a-rather-long-function-name\n');
    expect((await ok(['user', 'list', '-q'])).stdout).toBe('fits-user\n');
    expect((await ok(['context', 'ls', '-q'])).stdout).toBe('default\n');
    expect((await ok(['secret', 'create', 'fits-secret', '-q'], 'v')).stdout).toBe('fits-secret\n');
    expect((await ok(['secret', 'ls', '-q'])).stdout).toBe('fits-secret\n');
    expect((await ok(['secret', 'rm', 'fits-secret', '-q'])).stdout).toBe('');
    expect((await ok(['context', 'add', 'fits-ctx', '--host', 'tcp://192.0.2.1:2376', '-q'])).stdout).toBe('fits-ctx\n');
    expect((await ok(['logs', 'a-rather-long-function-name', '-q', '--tail', '1'])).stdout).toBe(
      `${(await rows("SELECT id FROM requests WHERE type = 'fn.invoke' ORDER BY created_at DESC LIMIT 1"))[0]!.id}\n`,
    );
    // Nothing left to set up: up -q has nothing to name.
    expect((await ok(['up', '-q'])).stdout).toBe('');
    const report = file('r.html', '');
    expect((await ok(['report', '--out', report, '-q'])).stdout).toBe(`${report}\n`);
  });

  it('--jq selects from the --json output for scripts: fn list, request show, an NDJSON stream; a bad expression runs nothing', async () => {
    expect((await ok(['fn', 'list', '--jq', '.[].name'])).stdout).toBe('a-rather-long-function-name\n');
    expect((await ok(['fn', 'list', '--jq', '.[] | {name, version}'])).stdout).toBe('{"name":"a-rather-long-function-name","version":2}\n');
    const [newest] = await rows("SELECT id FROM requests WHERE type = 'fn.invoke' ORDER BY created_at DESC LIMIT 1");
    const id = (newest as { id: string }).id;
    const shown = await ok(['request', 'show', id.slice(0, 8), '--jq', '.status, .result']);
    expect(shown.stdout).toBe('success\n2\n');
    // NDJSON (one answer a line) is filtered line by line, in input order.
    const bulk = await ok(['fn', 'invoke', 'a-rather-long-function-name', '--bulk', '-', '--jq', '.result'], '{"n": 1}\n{"n": 2}\n');
    // The openfaas handler answers its body as text: a string, printed raw.
    expect(bulk.stdout).toBe('{"n": 1}\n{"n": 2}\n');
    // An expression jq cannot compile is refused before anything runs.
    const bad = await cli(['fn', 'delete', 'a-rather-long-function-name', '--yes', '--jq', '.[']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ code: 'bad_jq', message: expect.stringMatching(/^--jq: syntax error/) });
    expect(await rows('SELECT name FROM functions')).toEqual([{ name: 'a-rather-long-function-name' }]);
    // One jq cannot apply to the document: exit 2, jq's own words.
    const wrong = await cli(['fn', 'list', '--jq', '.name']);
    expect(wrong.code).toBe(2);
    expect(JSON.parse(wrong.stdout).error).toMatchObject({ code: 'jq_failed', message: '--jq: Cannot index array with string "name"' });
  });

  it('takes a unique id prefix wherever a request id goes, and names an ambiguous one', async () => {
    const [row] = await rows("SELECT id, user_id FROM requests WHERE type = 'fn.invoke' LIMIT 1");
    const id = row!.id as string;
    const shown = await ok(['--json', 'request', 'show', id.slice(0, 12)]);
    expect(JSON.parse(shown.stdout).id).toBe(id);
    expect(JSON.parse((await ok(['--json', 'request', 'show', id.slice(0, 12).toUpperCase()])).stdout).id).toBe(id);
    // Two ended rows made to share a prefix.
    for (const last of ['1', '2'])
      await rows("INSERT INTO requests (id, user_id, type, status, params, finished_at) VALUES ($1, $2, 'fn.invoke', 'success', '{}', now())", [
        `abcdef00-0000-4000-8000-00000000000${last}`,
        row!.user_id,
      ]);
    const ambiguous = await cli(['request', 'show', 'abcdef00']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(
      /^error: request id "abcdef00" is ambiguous: two of your requests start with it \(abcdef00-0000-4000-8000-000000000001, abcdef00-0000-4000-8000-000000000002\)\nhint: give more of the id\n$/,
    );
    const none = await cli(['request', 'show', 'abcdef01']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/^error: no request of yours starts with "abcdef01"/);
    expect((await cli(['request', 'cancel', 'abcdef00-0000-4000-8000-000000000001'])).code).toBe(3); // ended: nothing to cancel
    expect((await cli(['request', 'wait', 'zz'])).code).toBe(2);
  });
});
