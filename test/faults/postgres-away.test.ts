import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcedRequest, startCli } from '../helpers/background-cli.js';
import { isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { NONE, query, settledLeftovers } from '../helpers/leftovers.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

/**
 * Issue 17: PostgreSQL stopped in the middle of a run and started again. The CLI exits 5
 * (it cannot record), and once PostgreSQL is back the next command that looks ends the row:
 * a warm bulk run's row is closed when its lease runs out (`request wait` does not wait for
 * ever), keeping the answers that were written and counting the missing; a cold job's answer
 * is recovered from its service's logs, also when its CLI was killed while PostgreSQL was
 * away. This file stops its own PostgreSQL (never the run's shared one) and sets up faasctl
 * on it with `faasctl up`.
 */
describe('PostgreSQL stopped and started mid-run', () => {
  let pg: ThrowawayPostgres;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-pgaway-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 150_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const rowOf = async (id: string) =>
    (
      await query<{ status: string; error: string | null; result: unknown; duration_ms: number | null; items: number }>(
        pg.url,
        'SELECT status, error, result, duration_ms, (SELECT count(*)::int FROM request_items WHERE request_id = r.id) AS items FROM requests r WHERE id = $1',
        [id],
      )
    )[0]!;
  /** Whatever a case does, PostgreSQL is running again before the next one. */
  const restart = () => {
    try {
      pg.start();
    } catch {
      // already running
    }
  };
  const collected = async () => {
    ok(await cli(['gc']));
    expect(await settledLeftovers(pg.url)).toEqual(NONE);
  };

  beforeAll(async () => {
    pg = await startThrowawayPostgres(tempDir('faasctl-pg-'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: pg.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'away', '--password-stdin'], 'away-pass'));
    ok(await cli(['login', 'away', '--password-stdin'], 'away-pass'));
    ok(await cli(['fn', 'deploy', file('slow.py', 'import time\ndef main(data):\n    print("started", flush=True)\n    time.sleep(3)\n    return {"slept": data}\n')]));
  });
  afterAll(async () => {
    restart();
    await runCli(['user', 'delete', '--force', '--yes'], { env }).catch(() => {});
    await runCli(['gc'], { env }).catch(() => {});
    pg?.destroy();
  });

  it('mid warm --bulk: the CLI exits 5; after PostgreSQL is back, request wait ends the row at its lease (answers kept, the missing counted)', async () => {
    ok(await cli(['fn', 'deploy', file('echo.py', 'import time\ndef main(data):\n    time.sleep(0.004)\n    return data\n'), '--warm', '1']));
    const total = 3000;
    const run = startCli(['fn', 'invoke', 'echo', '--bulk', file('echo.jsonl', `${Array.from({ length: total }, (_, i) => String(i)).join('\n')}\n`)], env);
    try {
      await waitFor('700 answers', () => run.lines() >= 700 || run.exited(), 90_000);
      expect(run.exited(), run.stderr()).toBe(false);
      pg.stop();
      const r = await run.done;
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toMatch(/^error: .*PostgreSQL/m);
      const id = announcedRequest(r.stderr)!;
      expect(id, r.stderr).toBeTruthy();
      pg.start();
      expect((await rowOf(id)).status).toBe('running');

      // Nothing waits for ever: the lease nobody renews runs out, and the wait closes the row.
      const wait = await cli(['request', 'wait', id, '--timeout', '2m']);
      expect(wait.code, wait.stderr).toBe(8);
      const row = await rowOf(id);
      expect(row.status).toBe('system_error');
      expect(row.items).toBeLessThan(total);
      expect(row.error).toMatch(new RegExp(`^abandoned: the invoking CLI stopped renewing its lease at \\d\\d:\\d\\d:\\d\\d UTC; ${row.items} of ${total} inputs answered, ${total - row.items} not$`));
      expect(wait.stderr).toContain(row.error!);
      expect(row.result).toMatchObject({ total, answered: row.items });
      expect(ok(await cli(['fn', 'invoke', 'echo', '--data', '7'])).stdout.trim()).toBe('7');
      ok(await cli(['fn', 'scale', 'echo', '0']));
      await collected();
    } finally {
      run.signal('SIGKILL');
      restart();
    }
  }, 180_000);

  it("mid cold invoke: the CLI exits 5 naming the request; request list then recovers the answer from the service's logs", async () => {
    const run = startCli(['fn', 'invoke', 'slow', '--cold', '--data', '1'], env);
    try {
      await waitFor('the function to start', () => run.stderr().includes('started') || run.exited(), 90_000);
      expect(run.exited(), run.stderr()).toBe(false);
      pg.stop();
      const r = await run.done;
      expect(r.code, r.stderr).toBe(5);
      const id = announcedRequest(r.stderr)!;
      expect(r.stderr).toContain(`the answer of request ${id} was not recorded`);
      expect(r.stderr).toContain(`hint: its service keeps it: once PostgreSQL is back, faasctl request wait ${id} records it`);
      pg.start();
      expect((await rowOf(id)).status).toBe('running');
      const listed = JSON.parse(ok(await cli(['--json', 'request', 'list', '--type', 'fn.invoke'])).stdout) as Array<{ id: string; status: string; result: unknown; durationMs: number }>;
      const row = listed.find((x) => x.id === id)!;
      expect(row).toMatchObject({ status: 'success', result: { slept: 1 } });
      expect(row.durationMs).toBeGreaterThanOrEqual(3000);
      expect(row.durationMs).toBeLessThan(6000);
      await collected();
    } finally {
      run.signal('SIGKILL');
      restart();
    }
  }, 180_000);

  it('a cold invoke whose CLI is killed while PostgreSQL is away: request wait records the answer once it is back', async () => {
    const run = startCli(['fn', 'invoke', 'slow', '--cold', '--data', '2'], env);
    try {
      await waitFor('the function to start', () => run.stderr().includes('started') || run.exited(), 90_000);
      pg.stop();
      run.signal('SIGKILL');
      const r = await run.done;
      expect(r.signal).toBe('SIGKILL');
      const id = announcedRequest(r.stderr)!;
      expect(id, r.stderr).toBeTruthy();
      // While PostgreSQL is away, a wait cannot read the row: exit 5, one line, no stack.
      const away = await cli(['request', 'wait', id]);
      expect(away.code, away.stderr).toBe(5);
      expect(away.stderr).not.toMatch(/\n\s+at /);
      pg.start();
      const wait = ok(await cli(['request', 'wait', id]));
      expect(JSON.parse(wait.stdout)).toEqual({ slept: 2 });
      expect((await rowOf(id)).status).toBe('success');
      expect(ok(await cli(['fn', 'invoke', 'slow', '--data', '3'])).stdout.trim()).toBe('{"slept":3}');
      await collected();
    } finally {
      run.signal('SIGKILL');
      restart();
    }
  }, 180_000);
});
