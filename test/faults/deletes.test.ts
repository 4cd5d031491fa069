import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { startCli } from '../helpers/background-cli.js';
import { isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/**
 * Issue 17, "deletes leave nothing" and gc's scope, through the built binary on the real engine
 * and PostgreSQL: `user delete --force` and `fn delete` leave no object of what they deleted
 * right after the command (not after a later gc), or refuse before changing anything; `gc
 * --mine` touches only the caller's work; `gc --dry-run` counts what `gc` then does.
 */
describe('deletes leave nothing; gc has a scope and one plan', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-deletes-');
  const run = (e: Record<string, string | undefined>, args: string[], input?: string) => runCli(args, { env: e, input, timeoutMs: 150_000 });
  const cli = (args: string[], input?: string) => run(env, args, input);
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const SLEEPY = 'import time\ndef main(data):\n    time.sleep(120)\n    return "late"\n';
  const QUICK = 'def main(data):\n    return "unread"\n';
  /** A logged-in user of its own (own config dir). */
  const newUser = async (name: string) => {
    const e = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: env.FAASCTL_BASE_IMAGE });
    ok(await run(e, ['user', 'create', name, '--password-stdin'], `${name}-pass`));
    ok(await run(e, ['login', name, '--password-stdin'], `${name}-pass`));
    const [user] = await query<{ id: string }>(db.url, 'SELECT id FROM users WHERE name = $1', [name]);
    return { env: e, id: user!.id };
  };
  const tasksOf = async (label: string) => (await docker.listTasks({ filters: JSON.stringify({ label: [label] }) } as object)) as Array<{ Status?: { State?: string } }>;
  const started = (requestId: string) => waitFor(`task of ${requestId} running`, async () => (await tasksOf(`io.faasctl.request=${requestId}`)).some((t) => t.Status?.State === 'running'));
  const ended = (requestId: string) =>
    waitFor(`task of ${requestId} ended`, async () => {
      const tasks = await tasksOf(`io.faasctl.request=${requestId}`);
      return tasks.length > 0 && tasks.every((t) => ['complete', 'failed', 'shutdown'].includes(t.Status?.State ?? ''));
    });
  const asyncInvoke = async (e: Record<string, string | undefined>, name: string) => ok(await run(e, ['fn', 'invoke', name, '--async'])).stdout.trim();
  const status = async (id: string) => (await query<{ status: string; result: unknown; error: string | null }>(db.url, 'SELECT status, result, error FROM requests WHERE id = $1', [id]))[0];
  const codeShas = async (userId: string) =>
    (await query<{ sha256: string }>(db.url, 'SELECT DISTINCT v.sha256 FROM function_versions v JOIN functions f ON f.id = v.function_id WHERE f.user_id = $1', [userId])).map((r) => r.sha256);

  /** Every object on the engine carrying this label (services, tasks, containers, secrets, configs). */
  const objects = async (label: string) => {
    const filters = JSON.stringify({ label: [label] });
    const [services, tasks, containers, secrets, configs] = await Promise.all([
      docker.listServices({ filters } as object),
      docker.listTasks({ filters } as object),
      docker.listContainers({ all: true, filters }),
      docker.listSecrets({ filters }),
      docker.listConfigs({ filters } as object),
    ]);
    return { services: services.length, tasks: tasks.length, containers: containers.length, secrets: secrets.length, configs: (configs as unknown[]).length };
  };
  const NOTHING = { services: 0, tasks: 0, containers: 0, secrets: 0, configs: 0 };
  const codeConfigs = async (shas: string[]) => {
    const configs = (await docker.listConfigs({ filters: JSON.stringify({ label: ['io.faasctl.component=code'] }) } as object)) as unknown as Array<{ Spec: { Labels?: Record<string, string> } }>;
    const installation = (await query<{ value: string }>(db.url, "SELECT value FROM faasctl_meta WHERE key = 'installation_id'"))[0]!.value;
    return configs.filter((c) => c.Spec.Labels?.['io.faasctl.installation'] === installation && shas.includes(c.Spec.Labels?.['io.faasctl.sha256'] ?? '')).length;
  };
  const inputConfigs = async (requestIds: string[]) => (await Promise.all(requestIds.map((id) => objects(`io.faasctl.request=${id}`)))).reduce((n, o) => n + o.configs, 0);

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'deleter', '--password-stdin'], 'deleter-pass'));
    ok(await cli(['login', 'deleter', '--password-stdin'], 'deleter-pass'));
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('user delete --force: nothing of the user is left on the engine right after the command, and no row of theirs is open', async () => {
    const doomed = await newUser('doomed');
    const as = (args: string[], input?: string) => run(doomed.env, args, input);
    ok(await as(['secret', 'create', 'api-key'], 'hunter2\n'));
    ok(await as(['fn', 'deploy', file('hot.py', 'def main(data):\n    return "hot"\n'), '--secret', 'api-key']));
    ok(await as(['fn', 'scale', 'hot', '1']));
    ok(await as(['fn', 'deploy', file('sleepy.py', SLEEPY)]));
    ok(await as(['fn', 'deploy', file('quick.py', QUICK)]));
    const running = await asyncInvoke(doomed.env, 'sleepy');
    const unread = await asyncInvoke(doomed.env, 'quick');
    await started(running);
    await ended(unread);
    const shas = await codeShas(doomed.id);
    expect(await objects(`io.faasctl.user=${doomed.id}`)).toMatchObject({ services: 3, secrets: 2 }); // warm + 2 jobs; token + api-key

    const deleted = JSON.parse(ok(await as(['--json', 'user', 'delete', '--force', '--yes'])).stdout) as { functions: number; stopped: number };
    expect(deleted).toMatchObject({ functions: 3, stopped: 2 });
    expect(await objects(`io.faasctl.user=${doomed.id}`)).toEqual(NOTHING);
    expect(await codeConfigs(shas)).toBe(0);
    expect(await inputConfigs([running, unread])).toBe(0);
    // Their rows stay until gc prunes them (issue 24: a delete costs the same whatever the history), none left open.
    const theirs = await query<{ status: string }>(db.url, 'SELECT status FROM requests WHERE id = ANY($1::uuid[]) OR user_id = $2', [[running, unread], doomed.id]);
    expect(theirs.length).toBeGreaterThan(2);
    expect(theirs.filter((r) => ['pending', 'running'].includes(r.status))).toEqual([]);
    const [log] = await query<{ params: { stopped: number } }>(db.url, "SELECT params FROM requests WHERE type = 'user.delete' AND params->>'userId' = $1", [doomed.id]);
    expect(log?.params.stopped).toBe(2);
    // And gc has nothing of theirs left to do on the engine; in the log, it prunes their rows.
    const gc = JSON.parse(ok(await cli(['--json', 'gc', '--dry-run'])).stdout) as Record<string, unknown>;
    expect(gc).toMatchObject({ servicesRemoved: 0, secretsRemoved: 0, configsRemoved: 0, requestsPruned: theirs.length });
    ok(await cli(['gc']));
    expect(await query(db.url, 'SELECT id FROM requests WHERE user_id = $1', [doomed.id])).toEqual([]);
  });

  it("user delete and fn delete lock no history: another user's invocation runs to its end while their transaction is still open", async () => {
    const big = await newUser('bighistory');
    // Code of their own: a code config shared with a later test's functions would outlive them.
    const OWN = 'def main(data):\n    return "history"\n';
    ok(await run(big.env, ['fn', 'deploy', file('bigfn.py', OWN)]));
    const [fn] = await query<{ id: string }>(db.url, "SELECT id FROM functions WHERE name = 'bigfn'");
    await query(
      db.url,
      `INSERT INTO requests (id, user_id, type, status, function_id, function_name, duration_ms, created_at)
       SELECT gen_random_uuid(), $1, 'fn.invoke', 'success', $2, 'bigfn', 5, now() - g * interval '1 second' FROM generate_series(1, 20000) g`,
      [big.id, fn!.id],
    );
    const history = async () => (await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM requests WHERE user_id = $1 AND function_id = $2 AND type = 'fn.invoke'", [big.id, fn!.id]))[0]!.n;
    const other = await newUser('unblocked');
    ok(await run(other.env, ['fn', 'deploy', file('otherfn.py', OWN)]));

    for (const [args, point] of [
      [['fn', 'delete', 'bigfn'], 'fn-delete:in-transaction'],
      [['user', 'delete', '--force', '--yes'], 'user-delete:in-transaction'],
    ] as const) {
      const held = startCli([...args], { ...big.env, FAASCTL_FAILPOINT: point });
      await waitFor(`${point} to be reached`, () => held.stderr().includes(`failpoint ${point} reached`));
      // Every history row can be locked without waiting: the delete's transaction holds none of them.
      await query(db.url, 'SELECT count(*) FROM (SELECT id FROM requests WHERE user_id = $1 FOR UPDATE NOWAIT) locked', [big.id]);
      // Another user's invocation, from its row to its end, meanwhile...
      ok(await run(other.env, ['fn', 'invoke', 'otherfn']));
      // ...while the delete's transaction is still open.
      expect(held.exited()).toBe(false);
      const open = await query(db.url, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'faasctl' AND state = 'idle in transaction'");
      expect(open).toHaveLength(1);
      held.signal('SIGKILL');
      await held.done;
    }
    // For real now: the history stays as plain ids (not rewritten), until gc prunes the deleted user's.
    ok(await run(big.env, ['fn', 'delete', 'bigfn']));
    expect(await history()).toBe(20_000);
    ok(await run(big.env, ['user', 'delete', '--force', '--yes']));
    expect(await history()).toBe(20_000);
    expect(JSON.parse(ok(await cli(['--json', 'gc'])).stdout).requestsPruned).toBeGreaterThan(20_000);
    expect(await history()).toBe(0);
    ok(await run(other.env, ['user', 'delete', '--force', '--yes']));
  });

  it('user delete --prefix P --force: each user goes the same way, nothing of theirs left right after the command', async () => {
    const users = [await newUser('bulkdel1'), await newUser('bulkdel2')];
    const running: string[] = [];
    for (const [i, u] of users.entries()) {
      ok(await run(u.env, ['secret', 'create', 'api-key'], 'hunter2\n'));
      ok(await run(u.env, ['fn', 'deploy', file(`bulksleepy${i}.py`, SLEEPY), '--secret', 'api-key']));
      running.push(await asyncInvoke(u.env, `bulksleepy${i}`));
    }
    await Promise.all(running.map(started));
    const deleted = JSON.parse(ok(await cli(['--json', 'user', 'delete', '--prefix', 'bulkdel', '--force', '--yes'])).stdout) as { succeeded: number; failed: number };
    expect(deleted).toMatchObject({ succeeded: 2, failed: 0 });
    for (const u of users) expect(await objects(`io.faasctl.user=${u.id}`)).toEqual(NOTHING);
    expect(await inputConfigs(running)).toBe(0);
  });

  it('user delete --force killed after its rows are gone: gc (unscoped) finishes it, leaving zero objects', async () => {
    const cut = await newUser('cutshort');
    const as = (args: string[], input?: string) => run(cut.env, args, input);
    ok(await as(['secret', 'create', 'api-key'], 'hunter2\n'));
    ok(await as(['fn', 'deploy', file('cuthot.py', 'def main(data):\n    return "hot"\n'), '--secret', 'api-key']));
    ok(await as(['fn', 'scale', 'cuthot', '1']));
    ok(await as(['fn', 'deploy', file('cutsleepy.py', SLEEPY)]));
    const running = await asyncInvoke(cut.env, 'cutsleepy');
    await started(running);
    const shas = await codeShas(cut.id);

    const killed = startCli(['user', 'delete', '--force', '--yes'], { ...cut.env, FAASCTL_FAILPOINT: 'user-delete:committed' });
    await waitFor('the delete to commit', () => killed.stderr().includes('failpoint user-delete:committed reached'));
    killed.signal('SIGKILL');
    await killed.done;
    expect(await query(db.url, 'SELECT id FROM users WHERE id = $1', [cut.id])).toEqual([]);
    expect(await objects(`io.faasctl.user=${cut.id}`)).toMatchObject({ services: 2, secrets: 2 }); // what the kill left

    ok(await cli(['gc']));
    await waitFor('removed services to take their tasks and containers with them', async () => JSON.stringify(await objects(`io.faasctl.user=${cut.id}`)) === JSON.stringify(NOTHING));
    expect(await codeConfigs(shas)).toBe(0);
    expect(await inputConfigs([running])).toBe(0);
  });

  it('fn delete of a function with an --async job nobody read: records its result, exit 0, nothing of it left; a shared code config stays', async () => {
    ok(await cli(['fn', 'deploy', file('unread.py', QUICK)]));
    ok(await cli(['fn', 'deploy', file('twin.py', QUICK)]));
    const [fn] = await query<{ id: string }>(db.url, "SELECT id FROM functions WHERE name = 'unread'");
    const id = await asyncInvoke(env, 'unread');
    await ended(id);
    const shas = await query<{ sha256: string }>(db.url, 'SELECT sha256 FROM function_versions WHERE function_id = $1', [fn!.id]);

    const del = ok(await cli(['fn', 'delete', 'unread']));
    expect(del.stderr).not.toMatch(/internal error|this is a bug/);
    expect(await status(id)).toEqual({ status: 'success', result: 'unread', error: null });
    expect(await objects(`io.faasctl.function=${fn!.id}`)).toEqual(NOTHING);
    expect(await inputConfigs([id])).toBe(0);
    expect(await codeConfigs(shas.map((s) => s.sha256))).toBe(1); // twin runs the same code
    ok(await cli(['fn', 'delete', 'twin']));
    expect(await codeConfigs(shas.map((s) => s.sha256))).toBe(0);
  });

  it('fn delete while a job runs: exit 3 and nothing changed; --force stops it, closes its row with the reason, and leaves nothing', async () => {
    ok(await cli(['fn', 'deploy', file('busy.py', SLEEPY)]));
    const [fn] = await query<{ id: string }>(db.url, "SELECT id FROM functions WHERE name = 'busy'");
    const id = await asyncInvoke(env, 'busy');
    await started(id);
    const before = await objects(`io.faasctl.function=${fn!.id}`);

    const refused = await cli(['--json', 'fn', 'delete', 'busy']);
    expect(refused.code, refused.stderr).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'function_running' } });
    const plain = await cli(['fn', 'delete', 'busy']);
    expect(plain.stderr).toMatch(/--force/);
    expect(plain.stderr).toContain(`faasctl request wait ${id}`);
    expect(await query(db.url, "SELECT id FROM functions WHERE name = 'busy'")).toHaveLength(1);
    expect((await status(id))?.status).toBe('running');
    expect(await objects(`io.faasctl.function=${fn!.id}`)).toEqual(before);

    ok(await cli(['fn', 'delete', 'busy', '--force']));
    const row = await status(id);
    expect(row?.status).toBe('system_error');
    expect(row?.error).toMatch(/stopped: its function busy was deleted/);
    expect(await objects(`io.faasctl.function=${fn!.id}`)).toEqual(NOTHING);
    expect(await inputConfigs([id])).toBe(0);
  });

  it("gc --mine and gc --user NAME touch only that user's work", async () => {
    const other = await newUser('bystander');
    ok(await run(other.env, ['fn', 'deploy', file('theirs.py', SLEEPY)]));
    ok(await run(other.env, ['fn', 'deploy', file('theirsquick.py', QUICK)]));
    ok(await cli(['fn', 'deploy', file('mine.py', QUICK)]));
    const theirs = await asyncInvoke(other.env, 'theirs');
    const theirsUnread = await asyncInvoke(other.env, 'theirsquick');
    const mine = await asyncInvoke(env, 'mine');
    await Promise.all([started(theirs), ended(theirsUnread), ended(mine)]);

    const planned = JSON.parse(ok(await cli(['--json', 'gc', '--mine', '--dry-run'])).stdout) as Record<string, unknown>;
    expect(planned).toMatchObject({ scope: { user: 'deleter' }, requestsRecovered: 1, servicesRemoved: 1 });
    const done = JSON.parse(ok(await cli(['--json', 'gc', '--mine'])).stdout) as Record<string, unknown>;
    expect(done).toEqual(planned);
    expect((await status(mine))?.status).toBe('success');
    // The other user's work is untouched: the unread job is still unread, the running one runs.
    expect((await status(theirsUnread))?.status).toBe('running');
    expect((await status(theirs))?.status).toBe('running');
    expect((await objects(`io.faasctl.user=${other.id}`)).services).toBe(2);

    const operator = JSON.parse(ok(await cli(['--json', 'gc', '--user', 'bystander'])).stdout) as Record<string, unknown>;
    expect(operator).toMatchObject({ scope: { user: 'bystander' }, requestsRecovered: 1, servicesRemoved: 1 });
    expect((await status(theirsUnread))?.status).toBe('success');
    expect((await status(theirs))?.status).toBe('running');
    expect((await cli(['gc', '--mine', '--user', 'bystander'])).code).toBe(2);
    expect((await cli(['gc', '--user', 'nobody-here'])).code).toBe(3);
    ok(await run(other.env, ['user', 'delete', '--force', '--yes']));
    expect(await objects(`io.faasctl.user=${other.id}`)).toEqual(NOTHING);
  });

  it('gc --dry-run counts exactly what gc then does', async () => {
    ok(await cli(['fn', 'deploy', file('plan.py', QUICK)]));
    ok(await cli(['fn', 'deploy', file('planslow.py', SLEEPY)]));
    // Recovered: an --async job that ended unread.
    const unread = await asyncInvoke(env, 'plan');
    // Closed with its service: a running job whose deadline is moved into the past.
    const late = await asyncInvoke(env, 'planslow');
    // Lost: a job whose service was removed outside faasctl, written over a minute ago.
    const lost = await asyncInvoke(env, 'planslow');
    await Promise.all([ended(unread), started(late), started(lost)]);
    await query(db.url, "UPDATE requests SET deadline_at = now() - interval '1 second' WHERE id = $1", [late]);
    const [service] = await docker.listServices({ filters: JSON.stringify({ label: [`io.faasctl.request=${lost}`] }) } as object);
    await docker.getService(service!.ID).remove();
    await query(db.url, "UPDATE requests SET created_at = created_at - interval '2 minutes' WHERE id = $1", [lost]);
    await waitFor('the removed service to be gone', async () => (await tasksOf(`io.faasctl.request=${lost}`)).length === 0);

    const planned = JSON.parse(ok(await cli(['--json', 'gc', '--dry-run'])).stdout) as Record<string, unknown>;
    expect(planned).toMatchObject({ scope: 'all', requestsRecovered: 1, requestsLost: 2, servicesRemoved: 2 });
    const done = JSON.parse(ok(await cli(['--json', 'gc'])).stdout) as Record<string, unknown>;
    expect(done).toEqual(planned);
    expect((await status(unread))?.status).toBe('success');
    expect((await status(late))?.status).toBe('system_error');
    expect((await status(lost))?.status).toBe('system_error');
    const again = JSON.parse(ok(await cli(['--json', 'gc', '--dry-run'])).stdout) as Record<string, number>;
    expect(again).toMatchObject({ requestsRecovered: 0, requestsLost: 0, servicesRemoved: 0, configsRemoved: 0 });
  });
});
