import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, type CliResult } from '../helpers/cli.js';
import { NONE, settledLeftovers } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { tempDir } from '../helpers/temp.js';

const SUM = resolve(import.meta.dirname, '../../examples/sum.py');
const ESC = /\x1b\[/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The output contract through the binary, with colour forced on (FORCE_COLOR=1) so that a
 * leak would show: `--json` is exactly one JSON document on stdout for every command;
 * a piped list is TSV without a header or escape codes; NO_COLOR removes every escape code.
 */
describe('output of every command', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const dir = tempDir('faasctl-out-');
  const pw = 'out-user-pass';

  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 120_000 });
  /** One JSON document and nothing else on stdout, no escape code anywhere. */
  const json = async (args: string[], input?: string, exitCode = 0): Promise<any> => {
    const r = await cli(['--json', ...args], input);
    expect(r.code, `${args.join(' ')}: ${r.stderr}${r.stdout}`).toBe(exitCode);
    expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(ESC);
    expect(r.stdout.trimEnd().split('\n'), `${args.join(' ')}: one line`).toHaveLength(1);
    return JSON.parse(r.stdout);
  };
  const tsv = (r: CliResult, columns: number) => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(ESC);
    const lines = r.stdout.trimEnd().split('\n');
    for (const line of lines) expect(line.split('\t'), line).toHaveLength(columns);
    return lines.map((l) => l.split('\t'));
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm', FORCE_COLOR: '1' });
    await json(['up']);
  });
  afterAll(async () => {
    expect(await settledLeftovers(db.url)).toEqual(NONE);
    await db?.drop();
  });

  it('--json: one document on stdout for every command, errors included', async () => {
    expect((await json(['doctor'])).ok).toBe(true);
    expect(await json(['context', 'ls'])).toEqual([expect.objectContaining({ name: 'default', current: true })]);
    expect((await json(['context', 'show'])).database.value).toContain('***');
    expect((await json(['user', 'create', 'out-user', '--password-stdin'], pw)).name).toBe('out-user');
    expect((await json(['login', 'out-user', '--password-stdin'], pw)).user.name).toBe('out-user');
    expect((await json(['whoami'])).name).toBe('out-user');
    expect((await json(['user', 'create', '--bulk', '2', '--prefix', 'outbulk', '--password-stdin'], pw)).succeeded).toBe(2);
    expect((await json(['user', 'update', '--prefix', 'outbulk', '--new-prefix', 'outren', '--password-stdin'], pw)).items.map((i: { name: string }) => i.name)).toEqual(['outbulk1', 'outbulk2']);
    expect((await json(['user', 'list', '--prefix', 'outren'])).map((u: { name: string }) => u.name)).toEqual(['outren1', 'outren2']);
    expect((await json(['user', 'show'])).name).toBe('out-user');

    expect(await json(['fn', 'list'])).toEqual([]);
    expect((await json(['fn', 'deploy', SUM])).outcome).toBe('deployed');
    const other = join(dir, 'sum2.py');
    writeFileSync(other, 'def main(data):\n    print("two")\n    return 2\n');
    expect((await json(['fn', 'update', 'sum', other])).version).toBe(2);
    expect((await json(['fn', 'rollback', 'sum'])).to).toBe(1);
    expect((await json(['fn', 'versions', 'sum'])).map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect((await json(['fn', 'show', 'sum', '--no-code'])).name).toBe('sum');
    expect((await json(['fn', 'list'])).map((f: { name: string }) => f.name)).toEqual(['sum']);
    const invoked = await json(['fn', 'invoke', 'sum', '--data', '{"numbers": [1, 2]}']);
    expect(invoked).toMatchObject({ status: 'success', result: { sum: 3, count: 2 } });
    const failed = await json(['fn', 'invoke', 'sum', '--data', '{}'], undefined, 6);
    expect(failed.status).toBe('application_error');
    const started = await json(['fn', 'invoke', 'sum', '--data', '{"numbers": [5]}', '--async']);
    expect(started.status).toBe('running');
    expect((await json(['request', 'wait', started.requestId])).result).toEqual({ sum: 5, count: 1 });
    expect((await json(['request', 'show', invoked.requestId])).id).toBe(invoked.requestId);
    expect((await json(['request', 'list', '--type', 'fn.invoke'])).length).toBe(3);
    expect((await json(['fn', 'deploy', other, '--bulk', '2', '--prefix', 'outfn'])).succeeded).toBe(2);
    expect((await json(['fn', 'update', other, '--prefix', 'outfn'])).items).toHaveLength(2);
    expect((await json(['fn', 'delete', '--prefix', 'outfn', '--yes'])).succeeded).toBe(2);
    expect((await json(['fn', 'scale', 'sum', '0'])).replicas).toBe(0);
    expect((await json(['fn', 'delete', 'sum'])).name).toBe('sum');
    expect(Object.keys(await json(['gc']))).toContain('servicesRemoved');

    // Errors: one document on stdout too.
    expect((await json(['fn', 'show', 'nope'], undefined, 3)).error.code).toBe('not_found');
    expect((await json(['request', 'show', 'not-an-id'], undefined, 2)).error.code).toBe('usage');
    expect((await json(['menu'], undefined, 2)).error.code).toBe('json_unsupported');

    expect((await json(['user', 'delete', '--prefix', 'outren', '--yes', '--force'])).succeeded).toBe(2);
    expect((await json(['user', 'update', '--name', 'out-user2'])).name).toBe('out-user2');
    expect((await json(['user', 'delete', '--yes'])).name).toBe('out-user2');
    expect((await json(['logout'])).loggedOut).toBe(false);
  });

  it('piped lists are TSV, no header, no escape codes, even with colour forced', async () => {
    expect((await cli(['user', 'create', 'tsv-user', '--password-stdin'], pw)).code).toBe(0);
    expect((await cli(['login', 'tsv-user', '--password-stdin'], pw)).code).toBe(0);
    expect((await cli(['fn', 'deploy', SUM, '--name', 'tsvsum'])).code).toBe(0);
    // A failed invocation makes a red status cell on a terminal.
    expect((await cli(['fn', 'invoke', 'tsvsum', '--data', '{}'])).code).toBe(6);

    const requests = tsv(await cli(['request', 'list']), 6);
    expect(requests.map((r) => r[1])).toEqual(['fn.invoke', 'fn.deploy', 'user.create']);
    expect(requests[0]![0]).toMatch(UUID);
    expect(requests[0]![2]).toBe('application_error');
    expect(tsv(await cli(['fn', 'list']), 7)[0]![0]).toBe('tsvsum');
    expect(tsv(await cli(['fn', 'versions', 'tsvsum']), 8)[0]![0]).toBe('v1');
    expect(tsv(await cli(['user', 'list', '--prefix', 'tsv']), 4)[0]![0]).toBe('tsv-user');
    expect(tsv(await cli(['context', 'ls']), 4).length).toBe(1);
    expect(tsv(await cli(['-q', 'request', 'list']), 1).every(([id]) => UUID.test(id!))).toBe(true);

    // The control: colour forced and no NO_COLOR does colour stderr, so the checks above could fail.
    const coloured = await cli(['fn', 'invoke', 'tsvsum', '--data', '{}']);
    expect(coloured.stderr).toMatch(ESC);
    const plain = await runCli(['fn', 'invoke', 'tsvsum', '--data', '{}'], { env: { ...env, NO_COLOR: '1' } });
    expect(plain.code).toBe(6);
    expect(plain.stderr).toContain('error: tsvsum@v1');
    expect(plain.stdout + plain.stderr).not.toMatch(ESC);
    const flag = await cli(['--no-color', 'fn', 'invoke', 'tsvsum', '--data', '{}']);
    expect(flag.stdout + flag.stderr).not.toMatch(ESC);

    expect((await cli(['fn', 'delete', 'tsvsum'])).code).toBe(0);
    expect((await cli(['user', 'delete', '--yes'])).code).toBe(0);
  });
});
