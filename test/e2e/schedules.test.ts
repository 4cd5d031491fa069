import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliResult, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

const ECHO = `def main(args):
    return args
`;

const SLOW = `import time

def main(args):
    time.sleep(5)
    return args
`;

interface Slot {
  slot: Date;
  outcome: 'fired' | 'skipped';
  reason: string | null;
  request_id: string | null;
  decided_at: Date;
}

/**
 * Schedules (issue 21) through the built binary, fired by the dispatcher as `up --dispatcher
 * --dispatcher-replicas 2` runs it (a leader and a standby), on the real engine and PostgreSQL.
 */
describe('schedules', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-schedules-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 180_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const json = async (args: string[], input?: string) => JSON.parse(ok(await cli(['--json', ...args], input)).stdout);
  const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => query<T>(db.url, sql, params);
  const slotsOf = (name: string) =>
    rows<Slot & Record<string, unknown>>(
      `SELECT sl.slot_at AS slot, sl.outcome, sl.reason, sl.request_id, sl.decided_at FROM schedule_slots sl JOIN schedules s ON s.id = sl.schedule_id WHERE s.name = $1 ORDER BY sl.slot_at`,
      [name],
    );
  const fired = async (name: string) => (await slotsOf(name)).filter((s) => s.outcome === 'fired').length;
  /** The requests a schedule queued, by the slot their params name. */
  const runsOf = (name: string) =>
    rows<{ id: string; slot: string; status: string; started_at: Date | null; finished_at: Date | null }>(
      `SELECT id, params->>'slot' AS slot, status, started_at, finished_at FROM requests WHERE params->>'schedule' = $1 AND type = 'fn.invoke' ORDER BY params->>'slot'`,
      [name],
    );
  const leader = async () => JSON.parse((await rows<{ value: string }>(`SELECT value FROM faasctl_meta WHERE key = 'dispatcher_leader'`))[0]!.value).holder as string;
  /** Pauses the schedule and waits for the runs it queued to end, so nothing is left open. */
  const settle = async (name: string) => {
    ok(await cli(['schedule', 'pause', name]));
    await waitFor(`${name}'s runs to end`, async () => (await runsOf(name)).every((r) => !['pending', 'running'].includes(r.status)), 120_000);
  };
  /** Each slot from the first to the last, every `periodMs`, exactly once. */
  const expectEverySlotOnce = (slots: Slot[], periodMs: number) => {
    const times = slots.map((s) => s.slot.getTime());
    expect(new Set(times).size).toBe(times.length);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `slot ${i} follows slot ${i - 1}`).toBe(periodMs);
  };
  const dispatcherService = async () => {
    const installation = (await rows<{ value: string }>(`SELECT value FROM faasctl_meta WHERE key = 'installation_id'`))[0]!.value;
    const [service] = await docker.listServices({ filters: JSON.stringify({ label: [`io.faasctl.installation=${installation}`, 'io.faasctl.component=dispatcher'] }) } as object);
    return docker.getService(service!.ID);
  };
  const scaleDispatcher = async (replicas: number) => {
    const service = await dispatcherService();
    const info = await service.inspect();
    await service.update({ ...info.Spec, Mode: { Replicated: { Replicas: replicas } }, version: info.Version.Index });
    const id = info.ID as string;
    const running = async () => (await docker.listContainers({ filters: JSON.stringify({ label: [`com.docker.swarm.service.id=${id}`] }) })).length;
    if (replicas === 0) await waitFor('the dispatcher tasks to stop', async () => (await running()) === 0, 60_000);
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    ok(await runCli(['up', '--dispatcher', '--dispatcher-replicas', '2'], { env, timeoutMs: 300_000 }));
    ok(await cli(['user', 'create', 'sched-user', '--password-stdin'], 'sched-user-pass'));
    ok(await cli(['login', 'sched-user', '--password-stdin'], 'sched-user-pass'));
  }, 360_000);
  cleansUpAfterEach(() => ({ db, env }));
  // Registered after cleansUpAfterEach, so it runs first: the service goes before its database.
  afterAll(async () => {
    const down = await runCli(['up', '--no-dispatcher'], { env, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
  }, 180_000);

  it('refuses a schedule while the installation has no dispatcher, and says how to get one', async () => {
    ok(await runCli(['up', '--no-dispatcher'], { env, timeoutMs: 120_000 }));
    ok(await cli(['fn', 'deploy', file('early.py', ECHO)]));
    const refused = await cli(['schedule', 'create', 'early', '--fn', 'early', '--every', '2s']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('this installation has none');
    expect(refused.stderr).toContain('faasctl up --dispatcher');
    ok(await cli(['fn', 'delete', 'early']));
    const up = await runCli(['up', '--dispatcher', '--dispatcher-replicas', '2'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
  }, 420_000);

  it('shows the next five slots of a cron schedule in its zone and in UTC, over a DST change', async () => {
    ok(await cli(['fn', 'deploy', file('report.py', ECHO)]));
    ok(await cli(['schedule', 'create', 'report', '--fn', 'report', '--cron', '30 2 * * *', '--tz', 'Europe/Berlin', '--start', '2030-03-29', '--catch-up', 'last']));
    const shown = await json(['schedule', 'show', 'report']);
    expect(shown).toMatchObject({ name: 'report', function: 'report', kind: 'cron', expression: '30 2 * * *', tz: 'Europe/Berlin', catchUp: 'last', overlap: 'skip', paused: false });
    // 31 March 2030 is the spring change in Berlin: no 02:30 that day.
    expect(shown.upcoming).toEqual([
      { zone: '2030-03-29T02:30:00+01:00', utc: '2030-03-29T01:30:00.000Z' },
      { zone: '2030-03-30T02:30:00+01:00', utc: '2030-03-30T01:30:00.000Z' },
      { zone: '2030-04-01T02:30:00+02:00', utc: '2030-04-01T00:30:00.000Z' },
      { zone: '2030-04-02T02:30:00+02:00', utc: '2030-04-02T00:30:00.000Z' },
      { zone: '2030-04-03T02:30:00+02:00', utc: '2030-04-03T00:30:00.000Z' },
    ]);
    expect(ok(await cli(['schedule', 'show', 'report'])).stdout).toContain('2030-04-01T02:30:00+02:00  2030-04-01T00:30:00.000Z');
    expect((await cli(['schedule', 'create', 'report', '--fn', 'report', '--every', '1m'])).code).toBe(3);
    expect((await cli(['schedule', 'create', 'bad', '--fn', 'report', '--cron', '0 3 * * *', '--tz', 'Mars/Olympus'])).code).toBe(2);
    expect((await cli(['schedule', 'create', 'bad', '--fn', 'nope', '--every', '1m'])).code).toBe(3);
    const updated = await json(['schedule', 'update', 'report', '--cron', '0 4 * * *', '--data-file', file('in.json', '{"region": "eu"}'), '--overlap', 'queue']);
    expect(updated).toMatchObject({ expression: '0 4 * * *', tz: 'Europe/Berlin', data: { region: 'eu' }, overlap: 'queue', catchUp: 'last', nextSlotAt: '2030-03-29T03:00:00.000Z' });
    expect((await json(['schedule', 'pause', 'report'])).paused).toBe(true);
    expect((await json(['schedule', 'show', 'report'])).upcoming).toEqual([]);
    expect(await json(['schedule', 'resume', 'report'])).toMatchObject({ paused: false, nextSlotAt: '2030-03-29T03:00:00.000Z' });
    expect((await json(['schedule', 'ls'])).map((s: { name: string }) => s.name)).toEqual(['report']);
    expect(await json(['schedule', 'history', 'report'])).toEqual([]);
    const tzWithEvery = await cli(['schedule', 'update', 'report', '--every', '1m', '--tz', 'UTC']);
    expect(tzWithEvery.code).toBe(2);
    expect(tzWithEvery.stderr).toContain('--tz goes with --cron or --at');
    expect((await cli(['schedule', 'create', 'past', '--fn', 'report', '--at', '2020-01-01T00:00:00Z'])).stderr).toContain('is in the past');
    // Deleting the function deletes its schedules (README "Schedules").
    ok(await cli(['fn', 'delete', 'report']));
    expect(await json(['schedule', 'ls'])).toEqual([]);
  });

  it('runs an --every 2s schedule; the leading task is killed, the standby takes over, and with catch-up all every slot ran exactly once', async () => {
    ok(await cli(['fn', 'deploy', file('beat.py', ECHO), '--warm', '1', '--workers', '2']));
    ok(await cli(['schedule', 'create', 'beat', '--fn', 'beat', '--every', '2s', '--catch-up', 'all', '--overlap', 'allow', '--data', '{"beat": 1}']));
    await waitFor('three slots fired', async () => (await fired('beat')) >= 3, 60_000);
    const before = await leader();
    const [container] = await docker.listContainers({ filters: JSON.stringify({ name: [before] }) });
    expect(container, `the leader's container (${before})`).toBeDefined();
    await docker.getContainer(container!.Id).kill();
    const atKill = await fired('beat');
    await waitFor('a new leader', async () => (await leader()) !== before, 60_000);
    await waitFor('three more slots fired after the takeover', async () => (await fired('beat')) >= atKill + 3, 90_000);
    await settle('beat');

    const slots = await slotsOf('beat');
    expect(slots.every((s) => s.outcome === 'fired')).toBe(true);
    expectEverySlotOnce(slots, 2_000);
    const runs = await runsOf('beat');
    expect(runs.map((r) => r.slot)).toEqual(slots.map((s) => s.slot.toISOString()));
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(slots.map((s) => s.request_id)));
    expect(runs.every((r) => r.status === 'success')).toBe(true);
    const history = await json(['schedule', 'history', 'beat', '--limit', '1000']);
    expect(history).toHaveLength(slots.length);
    expect(history[0]).toMatchObject({ outcome: 'fired', requestStatus: 'success', reason: null });
    expect(await json(['request', 'show', history[0].requestId])).toMatchObject({ status: 'success', result: { beat: 1 }, queued: true });
    ok(await cli(['fn', 'delete', 'beat']));
  }, 300_000);

  it('after the dispatcher was away: catch-up all runs each missed slot in order, catch-up none records them skipped', async () => {
    ok(await cli(['fn', 'deploy', file('gap.py', ECHO), '--warm', '1', '--workers', '2']));
    ok(await cli(['schedule', 'create', 'gap-all', '--fn', 'gap', '--every', '2s', '--catch-up', 'all', '--overlap', 'allow']));
    ok(await cli(['schedule', 'create', 'gap-none', '--fn', 'gap', '--every', '2s', '--catch-up', 'none', '--overlap', 'allow']));
    await waitFor('both schedules fired twice', async () => (await fired('gap-all')) >= 2 && (await fired('gap-none')) >= 2, 60_000);
    await scaleDispatcher(0);
    const [{ stopped }] = (await rows<{ stopped: Date }>(`SELECT now() AS stopped`)) as [{ stopped: Date }];
    // What was decided before the dispatcher went: nothing decides a slot until it is back.
    const allBefore = (await slotsOf('gap-all')).at(-1)!.slot;
    const noneBefore = (await slotsOf('gap-none')).at(-1)!.slot;
    // Slots pass with no dispatcher: at least five of each schedule's.
    await waitFor(
      'ten seconds of slots without a dispatcher',
      async () => (await rows<{ n: number }>(`SELECT extract(epoch FROM now() - $1::timestamptz)::float8 AS n`, [stopped]))[0]!.n > 10,
      30_000,
      500,
    );
    const [{ returned }] = (await rows<{ returned: Date }>(`SELECT now() AS returned`)) as [{ returned: Date }];
    await scaleDispatcher(2);
    const decidedPast = async (name: string) => (await slotsOf(name)).at(-1)!.slot > returned;
    await waitFor('both schedules deciding slots after the return', async () => (await decidedPast('gap-all')) && (await decidedPast('gap-none')), 120_000);
    await settle('gap-all');
    await settle('gap-none');
    const inGap = (after: Date) => (s: Slot) => s.slot > after && s.slot <= returned;

    const all = await slotsOf('gap-all');
    expectEverySlotOnce(all, 2_000);
    expect(all.every((s) => s.outcome === 'fired')).toBe(true);
    const missedAll = all.filter(inGap(allBefore));
    expect(missedAll.length, 'slots of gap-all due while no dispatcher ran').toBeGreaterThanOrEqual(5);
    for (const s of missedAll) expect(s.decided_at >= returned, `${s.slot.toISOString()} run after the return`).toBe(true);
    const allRuns = await runsOf('gap-all');
    expect(allRuns.map((r) => r.slot)).toEqual(all.map((s) => s.slot.toISOString()));

    const none = await slotsOf('gap-none');
    expectEverySlotOnce(none, 2_000);
    const missedNone = none.filter(inGap(noneBefore));
    expect(missedNone.length, 'slots of gap-none due while no dispatcher ran').toBeGreaterThanOrEqual(5);
    // All but the latest due when the dispatcher came back (which may still be on time) are skipped.
    const skipped = missedNone.slice(0, -1);
    for (const s of skipped) {
      expect(s.outcome).toBe('skipped');
      expect(s.request_id).toBeNull();
      expect(s.reason).toMatch(/^missed: /);
    }
    expect((await runsOf('gap-none')).map((r) => r.slot)).toEqual(none.filter((s) => s.outcome === 'fired').map((s) => s.slot.toISOString()));
    const history = await json(['schedule', 'history', 'gap-none', '--limit', '1000']);
    const skippedAll = none.filter((s) => s.outcome === 'skipped');
    expect(history.filter((h: { outcome: string }) => h.outcome === 'skipped').map((h: { slot: string; reason: string }) => [h.slot, h.reason])).toEqual(
      skippedAll.reverse().map((s) => [s.slot.toISOString(), s.reason]),
    );
    ok(await cli(['fn', 'delete', 'gap']));
  }, 300_000);

  it('overlap skip: with a function slower than the period, a slot due while the last run is open is skipped, never run alongside it', async () => {
    ok(await cli(['fn', 'deploy', file('slow.py', SLOW), '--warm', '1', '--workers', '2']));
    ok(await cli(['schedule', 'create', 'slow', '--fn', 'slow', '--every', '2s', '--overlap', 'skip']));
    await waitFor('two runs and overlapping slots skipped', async () => (await fired('slow')) >= 2 && (await slotsOf('slow')).filter((s) => s.reason?.startsWith('overlap')).length >= 2, 120_000);
    await settle('slow');
    const slots = await slotsOf('slow');
    expectEverySlotOnce(slots, 2_000);
    const runs = new Map((await runsOf('slow')).map((r) => [r.id, r]));
    const firedSlots = slots.filter((s) => s.outcome === 'fired');
    // Each run was decided only after the one before it ended.
    for (let i = 1; i < firedSlots.length; i++) {
      const previous = runs.get(firedSlots[i - 1]!.request_id!)!;
      expect(previous.finished_at!.getTime()).toBeLessThanOrEqual(firedSlots[i]!.decided_at.getTime());
    }
    for (const s of slots.filter((x) => x.outcome === 'skipped')) expect(s.reason).toMatch(/^overlap: the run of the slot at .* \(request [0-9a-f-]{36}\) had not ended$/);
    ok(await cli(['fn', 'delete', 'slow']));
  }, 240_000);
  it('apply and export hold schedules: a round trip gives the same file, a change goes through schedule update, --prune deletes what left', async () => {
    const yaml = (data: string, extra = '') =>
      file(
        'sched.yaml',
        `functions:\n  nightly:\n    source: |\n      def main(args):\n          return args\nschedules:\n  at3:\n    function: nightly\n    cron: "0 3 * * *"\n    tz: Europe/Paris\n    data: ${data}\n    catchUp: last\n  hourly:\n    function: nightly\n    every: 1h\n    overlap: queue\n    paused: true\n${extra}`,
      );
    const created = ok(await cli(['apply', '-f', yaml('{a: 1}')]));
    expect(created.stdout).toBe('+ nightly: 256 MiB, 1 CPU, 30 s\n+ schedule at3: nightly, cron "0 3 * * *"\n+ schedule hourly: nightly, every 1h\n');
    expect(await json(['schedule', 'show', 'at3'])).toMatchObject({ tz: 'Europe/Paris', catchUp: 'last', data: { a: 1 } });
    expect(await json(['schedule', 'show', 'hourly'])).toMatchObject({ paused: true, overlap: 'queue' });
    const exported = ok(await cli(['export', 'nightly'])).stdout;
    expect(exported).toContain('schedules:\n  at3:\n    function: nightly\n    cron: 0 3 * * *\n    tz: Europe/Paris\n    data:\n      a: 1\n    catchUp: last\n');
    expect(ok(await cli(['apply', '-f', file('exported.yaml', exported)])).stdout).toBe('= nightly (unchanged)\n= schedule at3 (unchanged)\n= schedule hourly (unchanged)\n');

    // A new input only: the same schedule (its history kept), updated in place.
    const [before] = await rows<{ id: string; next_slot_at: Date }>(`SELECT id, next_slot_at FROM schedules WHERE name = 'at3'`);
    expect(ok(await cli(['apply', '-f', yaml('{a: 2}')])).stdout).toBe('= nightly (unchanged)\n~ schedule at3: data\n= schedule hourly (unchanged)\n');
    const [after] = await rows<{ id: string; next_slot_at: Date; data: string }>(`SELECT id, next_slot_at, data FROM schedules WHERE name = 'at3'`);
    expect(after).toMatchObject({ id: before!.id, next_slot_at: before!.next_slot_at, data: '{"a":2}' });

    ok(await cli(['schedule', 'create', 'stray', '--fn', 'nightly', '--every', '1h']));
    const pruned = JSON.parse(ok(await cli(['--json', 'apply', '-f', yaml('{a: 2}'), '--prune', '--yes'])).stdout);
    expect(pruned.schedules).toEqual([
      { name: 'at3', action: 'unchanged', fields: [] },
      { name: 'hourly', action: 'unchanged', fields: [] },
      { name: 'stray', action: 'delete', fields: [] },
    ]);
    expect((await json(['schedule', 'list'])).map((x: { name: string }) => x.name).sort()).toEqual(['at3', 'hourly']);

    // Deleted and applied again from the export: the same file comes back.
    const again = ok(await cli(['export', 'nightly'])).stdout;
    ok(await cli(['fn', 'delete', 'nightly']));
    expect(await json(['schedule', 'list'])).toEqual([]);
    ok(await cli(['apply', '-f', file('again.yaml', again)]));
    expect(ok(await cli(['export', 'nightly'])).stdout).toBe(again);
    ok(await cli(['fn', 'delete', 'nightly']));
  }, 120_000);
});
