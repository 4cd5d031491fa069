import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { NONE, query, settledLeftovers } from '../helpers/leftovers.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 20: the dispatcher's PostgreSQL stopped (immediate shutdown: every connection cut,
 * the leadership lock with them) in the middle of a queued run, then started again. The
 * dispatcher task fails, Swarm starts it again until the database answers, and the new leader
 * adopts what was left: every queued request ends exactly once, none left open. This file
 * stops its own PostgreSQL, never the run's shared one.
 */
describe('the dispatcher when PostgreSQL restarts mid-run', () => {
  let pg: ThrowawayPostgres;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-dispatch-pg-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 150_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const counts = async (ids: string[]) =>
    (
      await query<{ open: number; success: number; other: number }>(
        pg.url,
        `SELECT count(*) FILTER (WHERE status IN ('pending', 'running'))::int AS open, count(*) FILTER (WHERE status = 'success')::int AS success,
              count(*) FILTER (WHERE status NOT IN ('pending', 'running', 'success'))::int AS other FROM requests WHERE id = ANY($1::uuid[])`,
        [ids],
      )
    )[0]!;

  beforeAll(async () => {
    pg = await startThrowawayPostgres(tempDir('faasctl-pg-'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: pg.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up', '--dispatcher'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'restart', '--password-stdin'], 'restart-pass'));
    ok(await cli(['login', 'restart', '--password-stdin'], 'restart-pass'));
  }, 360_000);
  afterAll(async () => {
    try {
      pg.start();
    } catch {
      // already running
    }
    await runCli(['up', '--no-dispatcher'], { env, timeoutMs: 120_000 });
    await runCli(['user', 'delete', '--force', '--yes'], { env }).catch(() => {});
    await runCli(['gc'], { env }).catch(() => {});
    pg.destroy();
  }, 180_000);

  it('ends every queued request exactly once after PostgreSQL is stopped and started mid-run', async () => {
    ok(await cli(['fn', 'deploy', file('double.py', 'import time\n\ndef main(n):\n    time.sleep(0.05)\n    return 2 * n\n'), '--warm', '2', '--workers', '2']));
    const lines = Array.from({ length: 200 }, (_, i) => String(i)).join('\n');
    const ids = ok(await cli(['fn', 'invoke', 'double', '--bulk', '-', '--async'], lines))
      .stdout.trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { requestId: string }).requestId);
    await waitFor('40 answers', async () => (await counts(ids)).success >= 40, 120_000);
    pg.stop();
    // Long enough for the dispatcher's task to notice, fail and be started again by Swarm.
    await new Promise((r) => setTimeout(r, 3_000));
    pg.start();
    await waitFor('every request to end', async () => (await counts(ids)).open === 0, 180_000);
    expect(await counts(ids)).toEqual({ open: 0, success: 200, other: 0 });
    const answers = await query<{ result: number; idx: string }>(pg.url, `SELECT result, params->>'bulkIndex' AS idx FROM requests WHERE id = ANY($1::uuid[])`, [ids]);
    expect(answers).toHaveLength(200);
    for (const a of answers) expect(a.result).toBe(2 * Number(a.idx));
    // The path under test was taken: the task that led lost its database and Swarm started another.
    const installation = (await query<{ value: string }>(pg.url, `SELECT value FROM faasctl_meta WHERE key = 'installation_id'`))[0]!.value;
    const docker = new Docker({ socketPath: '/var/run/docker.sock' });
    const tasks = await docker.listTasks({ filters: JSON.stringify({ label: [`io.faasctl.installation=${installation}`, 'io.faasctl.component=dispatcher'] }) } as object);
    expect(tasks.length).toBeGreaterThanOrEqual(2);
    ok(await cli(['fn', 'delete', 'double']));
    ok(await cli(['gc']));
    expect(await settledLeftovers(pg.url)).toEqual(NONE);
  });
});
