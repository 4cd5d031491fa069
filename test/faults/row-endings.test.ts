import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { announcedRequest } from '../helpers/background-cli.js';
import { BIN, isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { cleansUpAfterEach, NONE, query, settledLeftovers } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

interface Row {
  id: string;
  status: string;
  error: string | null;
  result: Record<string, unknown> | null;
  durationMs: number | null;
  node: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  checked?: boolean;
}

/**
 * Issue 17, "no row without an ending" and "figures are the run's own", through the built
 * binary on the real engine and PostgreSQL: a bulk run whose reader goes away (`| head -1`)
 * stops and records itself; an --async job read long after it ended is listed as ended, with
 * the run's own duration and its node's hostname, and stats agree.
 */
describe("row endings and the run's own figures", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { dir, file } = scratchDir('faasctl-endings-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 150_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const deployFresh = async (name: string, code: string, ...flags: string[]) => {
    await cli(['fn', 'delete', name]);
    ok(await cli(['fn', 'deploy', file(`${name}.py`, code), ...flags]));
  };
  const row = async (id: string) =>
    (
      await query<{ status: string; error: string | null; result: Record<string, unknown> | null; items: number }>(
        db.url,
        'SELECT status, error, result, (SELECT count(*)::int FROM request_items WHERE request_id = r.id) AS items FROM requests r WHERE id = $1',
        [id],
      )
    )[0]!;
  /** gc, then nothing of this installation is left on the engine and no row is open. */
  const collected = async () => {
    ok(await cli(['gc']));
    expect(await settledLeftovers(db.url)).toEqual(NONE);
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'endings', '--password-stdin'], 'endings-pass'));
    ok(await cli(['login', 'endings', '--password-stdin'], 'endings-pass'));
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('fn invoke --bulk FILE | head -1: stops feeding, records the run as it stands, removes its service, exits 130', async () => {
    await deployFresh('dribble', 'import time\ndef main(data):\n    time.sleep(0.1)\n    return data\n');
    const total = 60;
    const inputs = file('dribble.jsonl', `${Array.from({ length: total }, (_, i) => String(i)).join('\n')}\n`);
    const errFile = join(dir, 'head.err');
    // pipefail: the pipeline answers faasctl's exit code (head's is 0).
    const shell = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${BIN}" fn invoke dribble --bulk "${inputs}" --cold --concurrency 2 2>"${errFile}" | head -1`], {
      env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
      encoding: 'utf8',
      timeout: 150_000,
    });
    const stderr = readFileSync(errFile, 'utf8');
    expect(shell.status, stderr).toBe(130);
    expect(JSON.parse(shell.stdout.trim())).toMatchObject({ index: 0, status: 'success', result: 0 });
    expect(stderr).not.toMatch(/at .*\.js:\d+|internal error/); // no stack trace, no bug report
    const id = announcedRequest(stderr)!;
    expect(id, stderr).toBeTruthy();
    const r = await row(id);
    expect(r.status).toBe('system_error');
    const answered = r.items;
    expect(answered).toBeGreaterThanOrEqual(1);
    expect(answered).toBeLessThan(total);
    expect(r.error).toBe(`stopped: the reader of its output went away (stdout closed): ${answered} of ${total} inputs answered, ${total - answered} not`);
    expect(r.result).toMatchObject({ total, answered, success: answered });
    expect(stderr).toContain(`${total - answered} not run (stopped: the reader of its output went away (stdout closed))`);
    // Its bulk service and token secret went with the run, before any gc.
    expect(await settledLeftovers(db.url)).toEqual(NONE);
    expect(ok(await cli(['fn', 'invoke', 'dribble', '--data', '5'])).stdout.trim()).toBe('5');
    await collected();
  });

  it('an --async job read 3 s after it ended: listed as ended, with its own duration, start, end and node hostname; stats agree', async () => {
    await deployFresh('second', 'import time\ndef main(data):\n    time.sleep(1)\n    return {"slept": 1}\n');
    const id = ok(await cli(['fn', 'invoke', 'second', '--async'])).stdout.trim();
    // The job takes ~1 s; nobody looks at it until 3 s after it ended (the 2016 workflow: execute,
    // then poll). Its task's end is watched on the engine, which leaves the row as it is; the 3 s
    // after it are the point of the test (the row must not measure until someone looked).
    const byRequest = JSON.stringify({ label: [`io.faasctl.request=${id}`] });
    await waitFor(
      "the job's task to complete",
      async () => ((await docker.listTasks({ filters: byRequest } as object)) as Array<{ Status?: { State?: string } }>).some((t) => t.Status?.State === 'complete'),
      60_000,
      250,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const polledAt = Date.now();
    const listed = JSON.parse(ok(await cli(['--json', 'request', 'list', '--type', 'fn.invoke'])).stdout) as Row[];
    const job = listed.find((x) => x.id === id)!;
    expect(job).toMatchObject({ status: 'success', result: { slept: 1 } });
    expect(job.checked).toBeUndefined(); // closed rows carry no mark
    // The run's own measure (~1 s), not the ~6 s until someone looked.
    expect(job.durationMs).toBeGreaterThanOrEqual(1000);
    expect(job.durationMs).toBeLessThan(4000);
    const started = Date.parse(job.startedAt!);
    const finished = Date.parse(job.finishedAt!);
    // Start and end are stored to the millisecond, the duration to the microsecond: within 1 ms.
    expect(Math.abs(finished - started - job.durationMs!)).toBeLessThanOrEqual(1);
    expect(finished).toBeLessThan(polledAt - 2000);
    const [self] = await docker.listNodes();
    expect(job.node).toBe(self!.Description!.Hostname);

    const stats = JSON.parse(ok(await cli(['--json', 'stats', 'second', '--since', '1h'])).stdout);
    expect(stats.functions[0]).toMatchObject({ name: 'second', invocations: 1, succeeded: 1 });
    expect(stats.functions[0].p99Ms).toBeCloseTo(job.durationMs!, 6);
    await collected();
  });

  it('request list marks the open jobs it could not check (engine unreachable), and checks them when it can', async () => {
    await deployFresh('later', 'import time\ndef main(data):\n    time.sleep(1)\n    return "done"\n');
    const id = ok(await cli(['fn', 'invoke', 'later', '--async'])).stdout.trim();
    const away = ['-H', 'unix:///nonexistent/docker.sock'];
    const blind = JSON.parse(ok(await cli(['--json', ...away, 'request', 'list', '--type', 'fn.invoke'])).stdout) as Row[];
    expect(blind.find((x) => x.id === id)).toMatchObject({ status: expect.stringMatching(/^(pending|running)$/), checked: false });
    const table = ok(await cli([...away, 'request', 'list', '--type', 'fn.invoke']));
    expect(table.stdout).toMatch(new RegExp(`^${id}\tfn\\.invoke\t(pending|running)\\*\t`, 'm'));
    expect(table.stderr).toContain('* 1 open invocation(s) not checked against the cluster in this listing');
    await waitFor('the job to end', async () => {
      const seen = JSON.parse(ok(await cli(['--json', 'request', 'list', '--type', 'fn.invoke'])).stdout) as Row[];
      const job = seen.find((x) => x.id === id)!;
      if (job.status === 'success') return true;
      expect(job.checked).toBe(true);
      return false;
    });
    await collected();
  });

  it('an --async job that can never be placed is closed at its deadline (timeout + start allowance + grace) and its service removed', async () => {
    await deployFresh('nowhere', 'def main(data):\n    return data\n', '--timeout', '1s', '--constraint', 'node.hostname==nowhere');
    const id = ok(await cli(['fn', 'invoke', 'nowhere', '--async'])).stdout.trim();
    const deadline = await query<{ budget: number }>(db.url, 'SELECT extract(epoch FROM deadline_at - created_at)::float8 AS budget FROM requests WHERE id = $1', [id]);
    expect(deadline[0]!.budget).toBeCloseTo(1 + 30 + 60, 3);
    // Swarm keeps its task pending for ever; only the deadline ends it.
    await waitFor('its deadline to pass', async () => (await query<{ passed: boolean }>(db.url, 'SELECT deadline_at < now() AS passed FROM requests WHERE id = $1', [id]))[0]!.passed, 150_000);
    const listed = JSON.parse(ok(await cli(['--json', 'request', 'list', '--type', 'fn.invoke'])).stdout) as Row[];
    const job = listed.find((x) => x.id === id)!;
    expect(job.status).toBe('system_error');
    expect(job.error).toMatch(
      /^no answer by its deadline \d\d:\d\d:\d\d UTC \(its timeout 1 s \+ 30 s to start \+ 60 s grace\): its service had no result and was removed; the function may have run$/,
    );
    expect(await settledLeftovers(db.url)).toEqual(NONE); // removed by the listing, before any gc
    await collected();
  }, 240_000);
});
