import { execFile } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, isolatedEnv, runCli } from '../helpers/cli.js';
import { cleansUpAfterEach } from '../helpers/leftovers.js';
import { tempDir } from '../helpers/temp.js';
import { createTestDatabase } from '../helpers/test-db.js';

const SUM = resolve(import.meta.dirname, '../../examples/sum.py');

/**
 * Completion in a real bash, with the script `faasctl completion bash` prints and the built
 * binary on PATH as `faasctl`: names come from the real database of the current context.
 */
describe('shell completion of names', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const bin = tempDir('faasctl-compl-bin-');
  const dir = tempDir('faasctl-compl-');
  const script = join(dir, 'faasctl.bash');

  /** What bash offers for the line (the last word is being completed; a trailing space starts a new one). */
  async function complete(line: string, extraEnv: Record<string, string | undefined> = env): Promise<string[]> {
    const program = `source "${script}"; read -ra COMP_WORDS <<< "$1"; [[ "$1" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _faasctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const vars = Object.fromEntries(Object.entries({ ...extraEnv, PATH: `${bin}:${process.env.PATH}` }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const { stdout } = await promisify(execFile)('bash', ['-c', program, '_', line], { env: vars, cwd: dir, encoding: 'utf8' });
    return stdout.split('\n').filter(Boolean);
  }

  beforeAll(async () => {
    symlinkSync(BIN, join(bin, 'faasctl'));
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    expect((await runCli(['up'], { env, timeoutMs: 300_000 })).code).toBe(0);
    expect((await runCli(['user', 'create', 'compl-user', '--password-stdin'], { env, input: 'compl-user-pass' })).code).toBe(0);
    expect((await runCli(['login', 'compl-user', '--password-stdin'], { env, input: 'compl-user-pass' })).code).toBe(0);
    for (const name of ['sum', 'summary', 'other']) {
      const deployed = await runCli(['fn', 'deploy', SUM, '--name', name], { env, timeoutMs: 120_000 });
      expect(deployed.code, deployed.stderr).toBe(0);
    }
    const printed = await runCli(['completion', 'bash'], { env });
    expect(printed.code).toBe(0);
    writeFileSync(script, printed.stdout);
  });
  cleansUpAfterEach(() => ({ db, env }));
  afterAll(async () => {
    for (const name of ['sum', 'summary', 'other']) await runCli(['fn', 'delete', name], { env });
    await db?.drop();
  });

  it("completes a deployed function's name, a request id and a context; commands and flags as before", async () => {
    expect(await complete('faasctl fn invoke su')).toEqual(['sum', 'summary']);
    expect(await complete('faasctl fn invoke ')).toEqual(['other', 'sum', 'summary']);
    expect(await complete('faasctl --json logs oth')).toEqual(['other']);
    expect(await complete('faasctl fn de')).toEqual(['deploy', 'delete']);
    expect(await complete('faasctl fn invoke sum --da')).toEqual(['--data', '--data-file']);

    const list = await runCli(['--json', 'request', 'list', '--limit', '1'], { env });
    const newest = (JSON.parse(list.stdout) as Array<{ id: string }>)[0]!.id;
    expect(await complete(`faasctl request show ${newest.slice(0, 6)}`)).toEqual([newest]);
    expect(await complete('faasctl --context ')).toEqual(['default']);
    expect(await complete('faasctl context use def')).toEqual(['default']);

    // The same answer for scripts and other shells.
    const json = await runCli(['--json', '__complete', '--', 'fn', 'show', 's'], { env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(['sum', 'summary']);
  });

  it('offline or logged out: no names and no error, files instead', async () => {
    writeFileSync(join(dir, 'sum-notes.txt'), '');
    // Nothing listens on port 9 (discard): the connection is refused at once.
    const offline = { ...env, FAASCTL_DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' };
    expect(await complete('faasctl fn invoke sum', offline)).toEqual(['sum-notes.txt']);
    const direct = await runCli(['__complete', '--', 'fn', 'invoke', ''], { env: offline });
    expect(direct).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const other = isolatedEnv({ FAASCTL_DATABASE_URL: db.url });
    expect(await complete('faasctl fn invoke sum', other)).toEqual(['sum-notes.txt']);
  });
});
