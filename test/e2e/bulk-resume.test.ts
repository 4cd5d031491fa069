import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { announcedRequest, startCli } from '../helpers/background-cli.js';
import { isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const LINES = 3000;
/** Counts its own executions: one byte per call in its replica's /tmp (outside anything faasctl records). */
const COUNTING = "def main(data):\n    with open('/tmp/executions', 'a') as f:\n        f.write('x')\n    return {'i': data['i'], 'twice': data['i'] * 2}\n";
/** A cold bulk run's containers go with it, so executions are told apart by a stamp each makes. */
const STAMPED = "import os, time\ndef main(data):\n    time.sleep(0.01)\n    return {'i': data['i'], 'stamp': os.urandom(8).hex()}\n";
const COLD_LINES = 1000;

/**
 * A bulk run killed mid-way and resumed (issue 26), through the built binary on the real Swarm
 * and PostgreSQL: the resumed run prints the same answers as an uninterrupted run, runs only
 * the lines without a recorded answer (the function counts its executions), refuses a file
 * changed where answers exist, and another user's run is "not found". One deploy for the file.
 */
describe('bulk resume through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { dir, file } = scratchDir('faasctl-bulk-resume-');
  const cli = (args: string[], input?: string, e = env) => runCli(args, { env: e, input, timeoutMs: 120_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => query<T>(db.url, sql, params);
  /** Answers without their timing fields (measurements, different in every run). */
  const normalised = (stdout: string) =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const { latencyMs: _l, durationMs: _d, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return JSON.stringify(rest);
      })
      .join('\n');
  /** The function's executions so far, summed over its running replicas. */
  const executions = async () => {
    const [fn] = await rows<{ id: string }>("SELECT id FROM functions WHERE name = 'counting'");
    const services = await docker.listServices({ filters: JSON.stringify({ label: ['io.faasctl.component=warm', `io.faasctl.function=${fn!.id}`] }) } as object);
    let total = 0;
    for (const s of services) {
      const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [s.ID], 'desired-state': ['running'] }) } as object)) as Array<{
        Status: { ContainerStatus?: { ContainerID?: string } };
      }>;
      for (const t of tasks) {
        const exec = await docker.getContainer(t.Status.ContainerStatus!.ContainerID!).exec({ Cmd: ['sh', '-c', 'stat -c %s /tmp/executions 2>/dev/null || echo 0'], AttachStdout: true });
        const stream = await exec.start({});
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        total += Number(/(\d+)\s*$/.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? 0);
      }
    }
    return total;
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    ok(await runCli(['up'], { env, timeoutMs: 300_000 }));
    ok(await cli(['user', 'create', 'resume-user', '--password-stdin'], 'resume-user-pass'));
    ok(await cli(['login', 'resume-user', '--password-stdin'], 'resume-user-pass'));
    ok(await cli(['fn', 'deploy', file('counting.py', COUNTING), '--warm', '2', '--workers', '1']));
    ok(await cli(['fn', 'deploy', file('stamped.py', STAMPED)]));
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('a run SIGKILLed mid-way resumes: the same answers, no recorded line run again, a changed file and another user refused', async () => {
    const inputs = file('inputs.jsonl', `${Array.from({ length: LINES }, (_, i) => JSON.stringify({ i })).join('\n')}\n`);
    const whole = ok(await cli(['fn', 'invoke', 'counting', '--bulk', inputs]));
    expect(whole.stdout.split('\n').filter(Boolean)).toHaveLength(LINES);

    // Killed once it has printed a third of the answers.
    const before = await executions();
    const killed = startCli(['fn', 'invoke', 'counting', '--bulk', inputs], env);
    await waitFor('a third of the answers', () => killed.lines() >= LINES / 3 || killed.exited());
    killed.signal('SIGKILL');
    const dead = await killed.done;
    expect(dead.signal, dead.stderr).toBe('SIGKILL');
    const runId = announcedRequest(dead.stderr)!;
    expect(runId).toBeDefined();
    // A batch the CLI sent just before the kill still commits: count once its sessions are gone.
    await waitFor(
      'the killed CLI to leave PostgreSQL',
      async () => (await rows<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()'))[0]!.n === 0,
    );
    const recorded = (await rows<{ n: number }>('SELECT count(*)::int AS n FROM request_items WHERE request_id = $1', [runId]))[0]!.n;
    expect(recorded).toBeLessThan(LINES);
    const ranByKilled = (await executions()) - before;

    // A changed line among those answered: refused, one line naming it, nothing run or recorded.
    const changed = join(dir, 'changed.jsonl');
    writeFileSync(changed, readFileSync(inputs, 'utf8').replace('{"i":0}\n', '{"i":0,"x":1}\n'));
    const refused = await cli(['fn', 'invoke', 'counting', '--bulk', changed, '--resume', runId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`changed\\.jsonl:1 changed since run ${runId} answered it`));
    expect(refused.stdout).toBe('');

    // Another user's run is not found.
    const other = isolatedEnv({ FAASCTL_DATABASE_URL: db.url });
    ok(await cli(['user', 'create', 'resume-other', '--password-stdin'], 'resume-other-pass'));
    ok(await cli(['login', 'resume-other', '--password-stdin'], 'resume-other-pass', other));
    const stranger = await cli(['fn', 'invoke', 'counting', '--bulk', inputs, '--resume', runId], undefined, other);
    expect(stranger.code).toBe(3);
    expect(stranger.stderr).toMatch(/not found/);
    ok(await cli(['user', 'delete', '--yes'], undefined, other));

    // --resume alone finds the newest run of this function over this file: the killed one.
    const atResume = await executions();
    expect(atResume - before).toBe(ranByKilled);
    const resumed = ok(await cli(['fn', 'invoke', 'counting', '--bulk', inputs, '--resume']));
    expect(normalised(resumed.stdout)).toBe(normalised(whole.stdout));
    const window = Number(/\(window (\d+)\)/.exec(resumed.stderr)?.[1]);
    expect(resumed.stderr).toContain(`resumed ${runId}: ${recorded} answered before, ${LINES - recorded} run now`);
    // Only the lines without a recorded answer ran again; the killed run ran at most a window more than it recorded.
    expect((await executions()) - atResume).toBe(LINES - recorded);
    expect(ranByKilled).toBeGreaterThanOrEqual(recorded);
    expect(ranByKilled).toBeLessThanOrEqual(recorded + window);

    // Both rows ended: the killed one closed as abandoned, the new one linked to it.
    const ended = await rows<{ id: string; status: string; resumed_from: string | null }>(
      "SELECT id, status, resumed_from FROM requests WHERE type = 'fn.invoke.bulk' AND id IN ($1, (SELECT id FROM requests WHERE resumed_from = $1))",
      [runId],
    );
    expect(ended.map((r) => [r.id === runId ? 'killed' : 'resumed', r.status, r.resumed_from]).sort()).toEqual([
      ['killed', 'system_error', null],
      ['resumed', 'success', runId],
    ]);
  });

  it('a cold bulk run (its own service) killed mid-way resumes: a recorded line keeps its answer, every other line runs once', async () => {
    const inputs = file('cold.jsonl', `${Array.from({ length: COLD_LINES }, (_, i) => JSON.stringify({ i })).join('\n')}\n`);
    const killed = startCli(['fn', 'invoke', 'stamped', '--bulk', inputs], env);
    // Killed once a batch of answers is recorded (printing does not wait for that).
    const recordedSoFar = async () => {
      const id = announcedRequest(killed.stderr());
      return id ? (await rows<{ n: number }>('SELECT count(*)::int AS n FROM request_items WHERE request_id = $1', [id]))[0]!.n : 0;
    };
    await waitFor('a first batch of recorded answers', async () => (await recordedSoFar()) > 0 || killed.exited());
    killed.signal('SIGKILL');
    const dead = await killed.done;
    expect(dead.signal, dead.stderr).toBe('SIGKILL');
    const runId = announcedRequest(dead.stderr)!;
    await waitFor(
      'the killed CLI to leave PostgreSQL',
      async () => (await rows<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()'))[0]!.n === 0,
    );
    const recorded = new Map((await rows<{ idx: number; result: { stamp: string } }>('SELECT idx, result FROM request_items WHERE request_id = $1', [runId])).map((r) => [r.idx, r.result.stamp]));
    expect(recorded.size).toBeGreaterThan(0);
    expect(recorded.size).toBeLessThan(COLD_LINES);

    const resumed = ok(await cli(['fn', 'invoke', 'stamped', '--bulk', inputs, '--resume', runId]));
    const answers = resumed.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { index: number; status: string; result: { i: number; stamp: string } });
    // Every line once, in order, each answered by its own input.
    expect(answers.map((a) => [a.index, a.status, a.result.i])).toEqual(Array.from({ length: COLD_LINES }, (_, i) => [i, 'success', i]));
    // A line answered before the kill prints that answer (its stamp): it did not run again.
    for (const [idx, stamp] of recorded) expect(answers[idx]!.result.stamp).toBe(stamp);
    // Each of the others ran once, now: a stamp of its own, none from the killed run's answers.
    const fresh = answers.filter((a) => !recorded.has(a.index)).map((a) => a.result.stamp);
    expect(new Set([...fresh, ...recorded.values()]).size).toBe(COLD_LINES);
    expect(resumed.stderr).toContain(`resumed ${runId}: ${recorded.size} answered before, ${COLD_LINES - recorded.size} run now`);
    expect(resumed.stderr).toMatch(/, cold\)/);
  });
});
