import { beforeAll, describe, expect, inject, it } from 'vitest';
import { announcedRequest, startCli } from '../helpers/background-cli.js';
import { isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `faasctl logs` and `request cancel` through the built binary on the real Swarm and
 * PostgreSQL. A function that never returns makes the live part certain: what `logs --follow`
 * shows of it can only have come from the running job's stream, and only a cancel ends it.
 */
describe('logs and request cancel', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  let otherEnv: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-logs-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 120_000 });
  const rows = (sql: string, params: unknown[] = []) => query(db.url, sql, params);
  const deploy = async (name: string, code: string, ...flags: string[]) => {
    const r = await cli(['fn', 'deploy', file(`${name}.py`, code), ...flags]);
    expect(r.code, r.stderr).toBe(0);
  };
  const FOREVER = 'import time\ndef main(data):\n    print("started", data, flush=True)\n    while True:\n        time.sleep(0.2)\n';

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    otherEnv = isolatedEnv({ FAASCTL_DATABASE_URL: db.url });
    expect((await runCli(['up'], { env, timeoutMs: 300_000 })).code).toBe(0);
    expect((await cli(['user', 'create', 'logs-user', '--password-stdin'], 'logs-user-pass')).code).toBe(0);
    expect((await cli(['login', 'logs-user', '--password-stdin'], 'logs-user-pass')).code).toBe(0);
    expect((await runCli(['user', 'create', 'logs-other', '--password-stdin'], { env: otherEnv, input: 'logs-other-pass' })).code).toBe(0);
    expect((await runCli(['login', 'logs-other', '--password-stdin'], { env: otherEnv, input: 'logs-other-pass' })).code).toBe(0);
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('prints each invocation with a header and its stored output, made safe; --tail, --status and --json select', async () => {
    await deploy('talk', 'def main(data):\n    print("n is", data["n"], "\\x1b[31mred")\n    if data["n"] == 3:\n        raise ValueError("three")\n    return data["n"]\n');
    for (const n of [1, 2, 3]) await cli(['fn', 'invoke', 'talk', '--data', `{"n": ${n}}`]);
    const ids = (await rows("SELECT id FROM requests WHERE type = 'fn.invoke' ORDER BY created_at")).map((r) => r.id as string);

    const all = await cli(['logs', 'talk']);
    expect(all.code, all.stderr).toBe(0);
    // Oldest first; piped, ids are whole; the ESC the function printed is spelled out.
    const headers = all.stdout.split('\n').filter((l) => l.startsWith('── '));
    expect(headers.map((h) => h.split(/\s+/)[1])).toEqual(ids);
    expect(headers[0]).toMatch(/^── \S+ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}success {2}\d+ ms {2}v1 cold \S+$/);
    expect(all.stdout).toContain('n is 1 \\x1b[31mred\n');
    expect(all.stdout).not.toContain('\u001b');
    expect(all.stdout).toMatch(/application_error.*\nn is 3 .*\n.*ValueError: three/s);

    const tail = await cli(['logs', 'talk', '--tail', '1', '-q']);
    expect(tail.stdout).toBe(`${ids[2]}\n`);
    const failed = await cli(['--json', 'logs', 'talk', '--status', 'application_error']);
    expect(JSON.parse(failed.stdout)).toEqual([expect.objectContaining({ id: ids[2], status: 'application_error', output: 'n is 3 \u001b[31mred\n' })]);
    const none = await cli(['--json', 'logs', 'talk', '--since', '2000-01-01T00:00:00Z', '--status', 'system_error']);
    expect(JSON.parse(none.stdout)).toEqual([]);

    const missing = await cli(['logs', 'nosuchfn']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^error: function "nosuchfn" not found/);
    expect((await cli(['logs', 'talk', '--status', 'bogus'])).code).toBe(2);
    expect((await cli(['logs', 'talk', '--tail', '0'])).code).toBe(2);
  });

  it('--follow streams a running cold job live and shows its end once cancelled; cancel leaves nothing', async () => {
    await deploy('forever', FOREVER, '--timeout', '5m');
    const follow = startCli(['logs', 'forever', '--follow'], env);
    const ndjson = startCli(['--json', 'logs', 'forever', '--follow'], env);
    const invoke = startCli(['fn', 'invoke', 'forever', '--data', '7'], env);
    const id = await waitFor('the invoke to name its request', () => announcedRequest(invoke.stderr()));
    // The function never ends by itself: its line can only have come live from the running job.
    // (Its newline is held back until more text comes: the runtime may have added it, issue 19.)
    await waitFor('the live line in logs --follow', () => follow.stdout().includes('started 7'));
    expect(follow.stdout()).toMatch(new RegExp(`── ${id}  \\S+Z  running \\(live\\)  v1 cold`));
    await waitFor('the live line in the NDJSON follow', () => ndjson.stdout().includes('"text":"started 7'));
    expect(invoke.exited()).toBe(false);

    const other = await runCli(['request', 'cancel', id], { env: otherEnv });
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/^error: request .* not found/);

    const cancel = await cli(['--json', 'request', 'cancel', id]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ id, type: 'fn.invoke', mode: 'cold', status: 'system_error', error: expect.stringContaining('cancelled by logs-user') });
    // Nothing of the job is left: the service went and its task and container were waited for.
    const [row] = await rows('SELECT status, error FROM requests WHERE id = $1', [id]);
    expect(row).toMatchObject({ status: 'system_error', error: expect.stringMatching(/^cancelled by logs-user/) });
    const invoked = await invoke.done;
    // The invoking CLI answers with what the row says, not with the service that vanished under it.
    expect(invoked.code).toBe(8);
    expect(invoked.stderr).toMatch(/cancelled by logs-user \(faasctl request cancel\) while it ran/);
    expect(invoked.stderr).not.toMatch(/not found/);

    await waitFor('the end in logs --follow', () => follow.stdout().includes(`── ${id}`) && /system_error/.test(follow.stdout()));
    expect(follow.stdout().match(/started 7\n/g)).toHaveLength(1); // streamed once, not again at the end
    expect(follow.stdout()).toMatch(/cancelled by logs-user/);
    await waitFor('the end in the NDJSON follow', () => ndjson.stdout().includes('"event":"request"'));
    follow.signal('SIGINT');
    ndjson.signal('SIGINT');
    expect((await follow.done).code).toBe(130);
    const events = (await ndjson.done).stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; id: string; status?: string; streamed?: boolean; text?: string });
    expect(events[0]).toMatchObject({ event: 'start', id, mode: 'cold' });
    expect(events.at(-1)).toMatchObject({ event: 'request', id, status: 'system_error', streamed: true });
    const outputs = events.slice(1, -1);
    expect(outputs.every((e) => e.event === 'output' && e.id === id)).toBe(true);
    expect(outputs.map((e) => e.text).join('')).toBe('started 7\n');

    const again = await cli(['request', 'cancel', id]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already ended \(system_error\)/);
  });

  it('--follow prints new invocations as they end, after the tail, each once', async () => {
    await deploy('quick', 'def main(data):\n    print("quick", data)\n    return data\n');
    expect((await cli(['fn', 'invoke', 'quick', '--data', '1'])).code).toBe(0);
    const follow = startCli(['logs', 'quick', '--follow', '-q'], env);
    const [first] = await rows("SELECT id FROM requests WHERE type = 'fn.invoke' AND function_name = 'quick'");
    await waitFor('the tail', () => follow.stdout() === `${first!.id}\n`);
    expect((await cli(['fn', 'invoke', 'quick', '--data', '2'])).code).toBe(0);
    const [second] = await rows("SELECT id FROM requests WHERE type = 'fn.invoke' AND function_name = 'quick' AND id <> $1", [first!.id]);
    await waitFor('the new invocation', () => follow.stdout() === `${first!.id}\n${second!.id}\n`);
    follow.signal('SIGINT');
    expect((await follow.done).stdout).toBe(`${first!.id}\n${second!.id}\n`);
  });

  it('cancels a warm call by closing its row, and refuses what is not an invocation', async () => {
    await deploy('warmslow', FOREVER, '--timeout', '3s', '--warm', '1');
    const invoke = startCli(['fn', 'invoke', 'warmslow', '--data', '1'], env);
    const [open] = await waitFor('the warm row', () => rows("SELECT id, mode FROM requests WHERE type = 'fn.invoke' AND status = 'running' AND mode = 'warm'").then((r) => (r.length ? r : undefined)));
    const cancel = await cli(['request', 'cancel', open!.id]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/^cancelled request \S+ \(warmslow\): its row closed; the warm replica finishes the call/);
    const invoked = await invoke.done;
    expect(invoked.code).toBe(8);
    expect(invoked.stderr).toMatch(/cancelled by logs-user/);
    const [row] = await rows('SELECT status, error FROM requests WHERE id = $1', [open!.id]);
    expect(row).toMatchObject({ status: 'system_error', error: expect.stringMatching(/^cancelled by logs-user/) });
    const [deployRow] = await rows("SELECT id FROM requests WHERE type = 'fn.deploy' LIMIT 1");
    const refused = await cli(['request', 'cancel', deployRow!.id]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/only invocations can be cancelled/);
    expect((await cli(['fn', 'scale', 'warmslow', '0'])).code).toBe(0);
  });
});
