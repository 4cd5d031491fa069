import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { announcedRequest, startCli, type BackgroundCli } from '../helpers/background-cli.js';
import { isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { cleansUpAfterEach, NONE, query, settledLeftovers } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/**
 * Issue 17: a CLI SIGKILLed at any point leaves no row open for good. Killed before its
 * job's service exists, while the job runs, or after the answer was read but before it was
 * written (a test-only failpoint, FAASCTL_FAILPOINT, holds the CLI at exactly that point);
 * a bulk run killed mid-way stops renewing its lease and is closed by the next invocation
 * of the function, keeping the answers that were written. Each case: the row ends in the
 * right terminal status, the commands exit as documented, the function still works, and gc
 * leaves nothing of the installation.
 */
describe('a SIGKILLed CLI leaves every row with an ending', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-killed-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 150_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const deployFresh = async (name: string, code: string, ...flags: string[]) => {
    await cli(['fn', 'delete', name]);
    ok(await cli(['fn', 'deploy', file(`${name}.py`, code), ...flags]));
  };
  const rowOf = async (id: string) =>
    (
      await query<{ status: string; error: string | null; result: unknown; node: string | null; duration_ms: number | null; items: number; deadline_passed: boolean | null }>(
        db.url,
        'SELECT status, error, result, node, duration_ms, deadline_at < now() AS deadline_passed, (SELECT count(*)::int FROM request_items WHERE request_id = r.id) AS items FROM requests r WHERE id = $1',
        [id],
      )
    )[0]!;
  const servicesOf = (id: string) => docker.listServices({ filters: JSON.stringify({ label: [`io.faasctl.request=${id}`] }) } as object);
  /** Kills the CLI once `ready` holds; answers the request id it printed on stderr as soon as its row existed. */
  const killWhen = async (run: BackgroundCli, what: string, ready: () => boolean) => {
    await waitFor(what, () => ready() || run.exited(), 90_000);
    expect(run.exited(), `the CLI ended before ${what}: ${run.stderr()}`).toBe(false);
    run.signal('SIGKILL');
    const r = await run.done;
    expect(r.signal).toBe('SIGKILL');
    const id = announcedRequest(r.stderr);
    expect(id, r.stderr).toBeTruthy();
    return id!;
  };
  const stillWorks = async (name: string) => expect(ok(await cli(['fn', 'invoke', name, '--data', '{"n": 1}'])).stdout.trim()).not.toBe('');
  const collected = async () => {
    ok(await cli(['gc']));
    expect(await settledLeftovers(db.url)).toEqual(NONE);
  };
  const hostname = async () => (await docker.listNodes())[0]!.Description!.Hostname;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'killed', '--password-stdin'], 'killed-pass'));
    ok(await cli(['login', 'killed', '--password-stdin'], 'killed-pass'));
    await deployFresh('nap', 'import time\ndef main(data):\n    print("started", flush=True)\n    time.sleep(2)\n    return {"napped": data}\n');
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('killed after its row was written, before its service exists: request wait closes it as lost, exit 8', async () => {
    const run = startCli(['fn', 'invoke', 'nap', '--cold', '--data', '1'], { ...env, FAASCTL_FAILPOINT: 'invoke:row-written' });
    const id = await killWhen(run, 'the failpoint after the row', () => run.stderr().includes('failpoint invoke:row-written reached'));
    expect(await servicesOf(id)).toEqual([]);
    expect((await rowOf(id)).status).toBe('pending');
    // The wait gives a start in progress a minute to create its service, then judges it lost.
    const wait = await cli(['request', 'wait', id]);
    expect(wait.code, wait.stderr).toBe(8);
    expect(wait.stderr).toContain('the invocation was lost: its service no longer exists');
    expect(await rowOf(id)).toMatchObject({ status: 'system_error', result: null });
    await stillWorks('nap');
    await collected();
  }, 180_000);

  it("killed while its job runs: request wait records the job's own answer and figures, exit 0", async () => {
    const run = startCli(['fn', 'invoke', 'nap', '--cold', '--data', '2'], env);
    const id = await killWhen(run, 'the function to start', () => run.stderr().includes('started'));
    const wait = ok(await cli(['request', 'wait', id]));
    expect(JSON.parse(wait.stdout)).toEqual({ napped: 2 });
    const row = await rowOf(id);
    expect(row).toMatchObject({ status: 'success', node: await hostname(), deadline_passed: null });
    // The runtime's own measure of a 2 s run, not the time until the wait read it.
    expect(Number(row.duration_ms)).toBeGreaterThanOrEqual(2000);
    expect(Number(row.duration_ms)).toBeLessThan(5000);
    await stillWorks('nap');
    await collected();
  });

  it('killed after the answer was read, before it was written: request list recovers it from the service and shows it ended', async () => {
    const run = startCli(['fn', 'invoke', 'nap', '--cold', '--data', '3'], { ...env, FAASCTL_FAILPOINT: 'invoke:answer-read' });
    const id = await killWhen(run, 'the failpoint after the answer', () => run.stderr().includes('failpoint invoke:answer-read reached'));
    expect((await rowOf(id)).status).toBe('running');
    // The answer is read from the log as soon as it is printed; the task reports its end a moment
    // later. A listing before that rightly shows the job running: wait for the end it recovers.
    const [service] = await servicesOf(id);
    await waitFor(
      'the job to end',
      async () => {
        const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [service!.ID] }) } as object);
        return tasks.length > 0 && tasks.every((t) => t.Status?.State === 'complete');
      },
      30_000,
    );
    const listed = JSON.parse(ok(await cli(['--json', 'request', 'list', '--type', 'fn.invoke'])).stdout) as Array<{ id: string; status: string; result: unknown }>;
    expect(listed.find((r) => r.id === id)).toMatchObject({ status: 'success', result: { napped: 3 } });
    expect(await servicesOf(id)).toEqual([]);
    await stillWorks('nap');
    await collected();
  });

  it('a bulk run killed mid-way: its lease runs out and the next invocation of the function closes it, answers kept, the missing counted', async () => {
    await deployFresh('quick', 'import time\ndef main(data):\n    time.sleep(0.004)\n    return data\n', '--warm', '1');
    const total = 3000;
    const run = startCli(['fn', 'invoke', 'quick', '--bulk', file('quick.jsonl', `${Array.from({ length: total }, (_, i) => String(i)).join('\n')}\n`)], env);
    const id = await killWhen(run, '700 answers', () => run.lines() >= 700);
    expect((await rowOf(id)).status).toBe('running');
    // Nobody renews its lease now; the row is closable once its deadline passes (PostgreSQL's clock).
    await waitFor('the lease to run out', async () => (await rowOf(id)).deadline_passed === true, 90_000);
    expect((await rowOf(id)).status).toBe('running');
    await stillWorks('quick'); // the next invocation of the same function closes it
    const row = await rowOf(id);
    expect(row.status).toBe('system_error');
    expect(row.items).toBeGreaterThan(0);
    expect(row.items).toBeLessThan(total);
    expect(row.error).toMatch(new RegExp(`^abandoned: the invoking CLI stopped renewing its lease at \\d\\d:\\d\\d:\\d\\d UTC; ${row.items} of ${total} inputs answered, ${total - row.items} not$`));
    expect(row.result).toMatchObject({ total, answered: row.items, success: row.items });
    ok(await cli(['fn', 'scale', 'quick', '0']));
    await collected();
  }, 180_000);
});
