import { describe, expect, it } from 'vitest';
import { engineLostHint, engineLostMessage, ENGINE_GRACE_MS, noteAway, noteBack, type EngineAbsence } from '../../src/core/invocations/engine-absence.js';
import { engineRefusal } from '../../src/swarm/engine-refusals.js';
import { ConnectionError, EXIT, NotFoundError } from '../../src/base/errors.js';
import { FRAME_PREFIX, InvocationOutput, type Frame } from '../../src/core/invocations/invocation-output.js';
import { outcomeOf, ROW_OUTPUT_LIMIT, watchInvocation, type InvocationDeps } from '../../src/core/invocations/invocation.js';
import { noFrame } from '../../src/core/invocations/local-run.js';
import { isStartingDatabase, waitForRestartedPostgres } from '../../src/core/platform/postgres-restart.js';
import { mapDockerError } from '../../src/swarm/errors.js';
import type { SwarmTask } from '../../src/swarm/client.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

/** Issue 17: faults are classified by who caused them; one wording per fault on every path. */

const NONCE = 'abcDEF0123456789';
const STARTED = new Date('2026-11-24T12:00:00.000Z');
const NOW = new Date('2026-11-24T12:00:02.000Z');
const LIMITS = { timeoutMs: 30_000 };
const frameLine = (f: Frame) => `${FRAME_PREFIX}${NONCE}:${JSON.stringify(f)}\n`;

function outputWith(lines: string[]): InvocationOutput {
  const out = new InvocationOutput(NONCE, ROW_OUTPUT_LIMIT);
  for (const line of lines) out.push({ stream: 'stdout', data: Buffer.from(line) });
  return out;
}

/** A clock that moves only when the watcher sleeps: the grace runs out in simulated time. */
function simulatedTime() {
  let now = STARTED.getTime();
  return { clock: { now: () => new Date(now), sleep: async (ms: number) => void (now += ms) }, sleep: async (ms: number) => void (now += ms) };
}

const running: SwarmTask = { id: 't1', state: 'running', desiredState: 'running', message: 'started', nodeId: 'n1' };
const ended: SwarmTask = { ...running, state: 'complete', desiredState: 'shutdown', exitCode: 0 };
const away = () => new ConnectionError('cannot reach the Docker engine at unix:///fake.sock (ECONNREFUSED)');

describe("a run the engine stopped is the platform's fault", () => {
  it('a "stopped" frame (SIGTERM to the runtime itself) is system_error, exit 8, naming the cause, never the function', () => {
    const stopped: Frame = {
      v: 1,
      status: 'stopped',
      result: null,
      error: { type: 'Stopped', message: 'the engine stopped the container mid-run with SIGTERM (engine restart, node drain or service removal)', traceback: null },
      output: { bytes: 0, truncated: false },
      metrics: { durationMs: 1, cpuMs: 1, maxRssKb: 1 },
    };
    const o = outcomeOf({ reason: 'frame', out: outputWith([frameLine(stopped)]) }, STARTED, NOW, LIMITS);
    expect(o.completion.status).toBe('system_error');
    expect(o.exitCode).toBe(EXIT.platform);
    expect(o.message).toBe('the engine stopped the container mid-run with SIGTERM (engine restart, node drain or service removal)');
    expect(o.hint).toMatch(/not your code/);
  });

  it("a function killed by a signal the runtime did not get stays the function's (developer_error, exit 6)", () => {
    const killed: Frame = {
      v: 1,
      status: 'killed',
      result: null,
      error: { type: 'Killed', message: 'killed by SIGKILL', traceback: null },
      output: { bytes: 0, truncated: false },
      metrics: { durationMs: 1, cpuMs: 1, maxRssKb: 1 },
    };
    const o = outcomeOf({ reason: 'frame', out: outputWith([frameLine(killed)]) }, STARTED, NOW, LIMITS);
    expect(o.completion.status).toBe('developer_error');
    expect(o.exitCode).toBe(EXIT.functionFailed);
  });

  it('an engine that did not come back is system_error, exit 5, naming the engine; the hint says check dockerd, not --swarm-init', () => {
    const cause = away();
    const o = outcomeOf({ reason: 'engine_lost', out: outputWith([]), engine: { endpoint: 'unix:///var/run/docker.sock', cause } }, STARTED, NOW, LIMITS);
    expect(o.completion.status).toBe('system_error');
    expect(o.exitCode).toBe(EXIT.connection);
    expect(o.message).toBe(engineLostMessage('unix:///var/run/docker.sock', cause));
    expect(o.message).toMatch(/^the Docker engine at unix:\/\/\/var\/run\/docker\.sock went away mid-invocation/);
    expect(o.hint).toMatch(/dockerd/);
    expect(o.hint).not.toMatch(/swarm-init/);
  });

  it('names --swarm-init only when the engine itself said it is not a swarm manager', () => {
    expect(engineLostHint('E', new ConnectionError('list tasks: This node is not a swarm manager.'))).toMatch(/swarm-init/);
    expect(engineLostHint('E', new ConnectionError('list tasks: the Swarm manager at E is not ready (The swarm does not have a leader)'))).not.toMatch(/swarm-init/);
    expect(engineLostHint('E', away())).not.toMatch(/swarm-init/);
  });

  it('maps a manager without a leader (restarting) to a connection error that says wait, not --swarm-init', () => {
    const err = Object.assign(new Error('x'), { statusCode: 503, json: { message: "The swarm does not have a leader. It's possible that too few managers are online." } });
    const mapped = mapDockerError(err, 'unix:///s', 'list tasks') as ConnectionError;
    expect(mapped).toBeInstanceOf(ConnectionError);
    expect(mapped.hint).not.toMatch(/swarm-init/);
    const notManager = mapDockerError(
      Object.assign(new Error('x'), { statusCode: 503, json: { message: 'This node is not a swarm manager. Use "docker swarm init"' } }),
      'unix:///s',
      'list tasks',
    ) as ConnectionError;
    expect(notManager.hint).toMatch(/swarm-init/);
  });

  it('maps the calls a stopping manager cancels (seen mid cold invoke on a dockerd restart) to the engine being away', () => {
    const closing = { statusCode: 500, json: { message: 'rpc error: code = Canceled desc = grpc: the client connection is closing' } };
    expect(mapDockerError(Object.assign(new Error('x'), closing), 'unix:///s', 'service ps')).toBeInstanceOf(ConnectionError);
    const other = { statusCode: 500, json: { message: 'rpc error: code = Unknown desc = something else' } };
    expect(mapDockerError(Object.assign(new Error('x'), other), 'unix:///s', 'service ps')).not.toBeInstanceOf(ConnectionError);
  });

  it('keeps track of how long the engine has been away, and forgets once it answers', () => {
    const a: EngineAbsence = {};
    expect(noteAway(a, away(), 1_000)).toBe(true);
    expect(noteAway(a, away(), 1_000 + ENGINE_GRACE_MS - 1)).toBe(true);
    expect(noteAway(a, away(), 1_000 + ENGINE_GRACE_MS)).toBe(false);
    expect(noteBack(a, 70_000)).toBe(69_000);
    expect(noteBack(a, 71_000)).toBeUndefined();
  });
});

describe('watchInvocation rides out an engine that goes away', () => {
  function deps(swarm: FakeSwarm): InvocationDeps & { events: Array<string | undefined> } {
    const t = simulatedTime();
    const events: Array<string | undefined> = [];
    return { swarm, store: {} as InvocationDeps['store'], clock: t.clock, sleep: t.sleep, log: { debug: () => {} }, events };
  }

  it('reconnects, finds the task ended and reads the frame from the container log', async () => {
    const swarm = new FakeSwarm();
    let calls = 0;
    swarm.listTasks = async () => {
      calls++;
      if (calls === 1) return [running];
      if (calls <= 4) throw away();
      return [ended];
    };
    const done: Frame = { v: 1, status: 'success', result: 42, error: null, output: { bytes: 0, truncated: false }, metrics: { durationMs: 1, cpuMs: 1, maxRssKb: 1 } };
    swarm.serviceLogs = async function* (_id, o) {
      if (!o?.follow) yield { stream: 'stdout', data: Buffer.from(frameLine(done)) };
    };
    swarm.listNodes = async () => [{ id: 'n1', hostname: 'node-1', role: 'manager', state: 'ready', availability: 'active', leader: true, cpus: 2, memoryBytes: 1 }];
    const d = deps(swarm);
    const w = await watchInvocation(d, { serviceId: 's1', nonce: NONCE, onEngineAway: (m) => d.events.push(m) });
    expect(w.reason).toBe('frame');
    expect(w.out.frame?.result).toBe(42);
    expect(d.events).toEqual([expect.stringMatching(/went away .*ECONNREFUSED.*waiting for it/), undefined]);
  });

  it('gives up after the grace with engine_lost, the engine and its last error', async () => {
    const swarm = new FakeSwarm();
    swarm.listTasks = async () => {
      throw away();
    };
    swarm.serviceLogs = async function* () {};
    const w = await watchInvocation(deps(swarm), { serviceId: 's1', nonce: NONCE, engineGraceMs: 5_000 });
    expect(w.reason).toBe('engine_lost');
    expect(w.engine).toEqual({ endpoint: 'unix:///fake.sock', cause: expect.any(ConnectionError) });
  });

  it('does not swallow errors that are not about the engine being away', async () => {
    const swarm = new FakeSwarm();
    swarm.listTasks = async () => {
      throw new NotFoundError('no such service');
    };
    swarm.serviceLogs = async function* () {};
    await expect(watchInvocation(deps(swarm), { serviceId: 's1', nonce: NONCE })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("one wording for the engine's refusals (fn run, fn invoke, bulk)", () => {
  const cpuText = 'invalid NanoCPUs value 16000000000: Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available';

  it("CPUs beyond the node: exit 8 with the node's figure and a fix", () => {
    const r = engineRefusal(`(HTTP code 400) unexpected - ${cpuText}`)!;
    expect(r.exitCode).toBe(EXIT.platform);
    expect(r.message).toBe("the function's CPU limit is more than the node that was to run it has (2 CPUs; the engine allows 0.01 to 2.00 per container)");
    expect(r.hint).toMatch(/--cpus 2\.00/);
  });

  it('a rejected task and a refused container give the same line', () => {
    const task: SwarmTask = { id: 't', state: 'rejected', desiredState: 'shutdown', message: 'preparing', error: cpuText };
    const invoked = outcomeOf({ reason: 'ended', out: outputWith([]), task }, STARTED, NOW, LIMITS);
    expect(invoked.exitCode).toBe(EXIT.platform);
    expect(invoked.message).toBe(engineRefusal(cpuText)!.message);
    const image = outcomeOf({ reason: 'ended', out: outputWith([]), task: { ...task, error: 'No such image: faasctl/python-deps:abc-x' } }, STARTED, NOW, LIMITS);
    expect(image.message).toBe('the image faasctl/python-deps:abc-x is not on the node that was to run it');
    expect(image.exitCode).toBe(EXIT.platform);
  });

  it('leaves other errors alone', () => {
    expect(engineRefusal('port already in use')).toBeUndefined();
    const base = { output: '', outputTruncated: false, node: null, finishedAt: NOW, durationMs: 1 };
    expect(noFrame(base, { exitCode: 1, timedOut: false }, undefined, 1000).exitCode).toBe(EXIT.platform);
  });
});

describe("waiting for the platform's PostgreSQL after an engine restart", () => {
  const refused = new ConnectionError('cannot reach PostgreSQL at 127.0.0.1:5432/faas (ECONNREFUSED)');
  const service = { id: 'pg1', name: 'faasctl-postgres', createdAt: STARTED, env: [] };
  const task = (state: string, at: number, desiredState = 'running'): SwarmTask => ({ id: `t${at}`, state, desiredState, message: '', updatedAt: new Date(at) });

  function waitDeps(swarm: FakeSwarm, probe: () => Promise<void>) {
    const t = simulatedTime();
    const lines: Array<string | undefined> = [];
    return { deps: { swarm: async () => swarm, clock: t.clock, log: { debug: () => {} }, progress: (l: string | undefined) => lines.push(l), probe }, lines };
  }

  it('waits while the task starts, then answers when a query works', async () => {
    const swarm = new FakeSwarm();
    swarm.inspectService = async () => service;
    let polls = 0;
    swarm.listTasks = async () => (++polls < 3 ? [task('failed', 1, 'shutdown'), task('starting', 2)] : [task('failed', 1, 'shutdown'), task('running', 3)]);
    const { deps, lines } = waitDeps(swarm, async () => {});
    await waitForRestartedPostgres(deps, { service: 'faasctl-postgres' }, refused);
    expect(lines.filter(Boolean)[0]).toBe('waiting for PostgreSQL service faasctl-postgres (task starting) after an engine restart…');
    expect(lines.at(-1)).toBeUndefined();
  });

  it('fails with exit 5 naming the service and its task state when the bound passes', async () => {
    const swarm = new FakeSwarm();
    swarm.inspectService = async () => service;
    swarm.listTasks = async () => [task('preparing', 2)];
    const { deps } = waitDeps(swarm, async () => {});
    const err = (await waitForRestartedPostgres(deps, { service: 'faasctl-postgres', timeoutMs: 3_000 }, refused).catch((e: unknown) => e)) as ConnectionError;
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.exitCode).toBe(EXIT.connection);
    expect(err.message).toMatch(/^the platform's PostgreSQL service faasctl-postgres did not answer within 3 s \(task preparing/);
    expect(err.hint).toMatch(/docker service ps faasctl-postgres/);
  });

  it('does not wait for a database the engine does not run: the plain error, at once', async () => {
    const swarm = new FakeSwarm();
    swarm.inspectService = async () => undefined;
    const { deps } = waitDeps(swarm, async () => {});
    await expect(waitForRestartedPostgres(deps, { service: 'faasctl-postgres' }, refused)).rejects.toBe(refused);
  });

  it('waits on refused connections and "starting up", not on a refused login', () => {
    expect(isStartingDatabase(refused)).toBe(true);
    expect(isStartingDatabase(new ConnectionError('PostgreSQL at x: the database system is starting up'))).toBe(true);
    expect(isStartingDatabase(new ConnectionError('PostgreSQL at x refused the login: password authentication failed'))).toBe(false);
    expect(isStartingDatabase(new Error('boom'))).toBe(false);
  });
});

describe('a task that ended without a frame after the engine went away', () => {
  it('is the engine stopping it (system_error, exit 8), not "the task ended without a result"', () => {
    const task: SwarmTask = { id: 't', state: 'failed', desiredState: 'shutdown', message: 'started', error: 'No such container: faasctl-run-x.1.y', exitCode: 0 };
    const o = outcomeOf({ reason: 'ended', out: outputWith([]), task, engineAwayMs: 4_900, engine: { endpoint: 'unix:///s' } }, STARTED, NOW, LIMITS);
    expect(o.exitCode).toBe(EXIT.platform);
    expect(o.completion.status).toBe('system_error');
    expect(o.message).toBe('the engine stopped the container mid-run (engine restart, node drain or service removal); the engine at unix:///s did not answer for 4.9 s');
    const drained = outcomeOf({ reason: 'ended', out: outputWith([]), task: { ...task, state: 'shutdown', error: undefined } }, STARTED, NOW, LIMITS);
    expect(drained.message).toBe('the engine stopped the container mid-run (engine restart, node drain or service removal)');
    const plain = outcomeOf({ reason: 'ended', out: outputWith([]), task }, STARTED, NOW, LIMITS);
    expect(plain.message).toMatch(/^the task ended \(failed: No such container/);
  });
});

describe('up after an engine restart', () => {
  it('waits for a pending Swarm to come back instead of initialising a second one', async () => {
    const { ensureSwarm } = await import('../../src/core/platform/up.js');
    const swarm = new FakeSwarm();
    const states = ['pending', 'pending', 'active'];
    swarm.swarmState = async () => ({ localNodeState: states.shift() ?? 'active', isManager: true, nodeId: 'n1' });
    const t = simulatedTime();
    const lines: string[] = [];
    const step = await ensureSwarm({ swarm, log: { debug: () => {} }, progress: (l) => lines.push(l), clock: t.clock }, { swarmInit: true, advertiseAddr: '127.0.0.1' });
    expect(step).toEqual({ step: 'swarm', outcome: 'exists', detail: 'active, manager' });
    expect(lines[0]).toMatch(/waiting for Swarm mode .*\(pending\) after an engine restart/);
  });

  it('gives up on a Swarm that stays pending, with the usual error', async () => {
    const { ensureSwarm } = await import('../../src/core/platform/up.js');
    const swarm = new FakeSwarm();
    swarm.swarmState = async () => ({ localNodeState: 'pending', isManager: false });
    const t = simulatedTime();
    await expect(ensureSwarm({ swarm, log: { debug: () => {} }, progress: () => {}, clock: t.clock }, { swarmInit: false, advertiseAddr: '127.0.0.1' })).rejects.toMatchObject({ code: 'no_swarm' });
  });
});

describe('finishInvocation after the engine went away', () => {
  it('records the row, then waits for the engine to remove the service and input config', async () => {
    const { finishInvocation } = await import('../../src/core/invocations/invocation.js');
    const swarm = new FakeSwarm();
    let removals = 0;
    const removed: string[] = [];
    swarm.removeService = async (id) => {
      if (++removals <= 3) throw away();
      removed.push(id);
    };
    swarm.findConfig = async () => ({ id: 'cfg1', name: 'faasctl-in-r1' });
    swarm.removeConfig = async (id) => void removed.push(id);
    const completed: string[] = [];
    const t = simulatedTime();
    const store = { requests: { complete: async (id: string) => (completed.push(id), true) } } as unknown as InvocationDeps['store'];
    const outcome = outcomeOf({ reason: 'ended', out: outputWith([]), task: ended }, STARTED, NOW, LIMITS);
    expect(await finishInvocation({ swarm, store, clock: t.clock, sleep: t.sleep, log: { debug: () => {} } }, 'r1', 'svc1', outcome)).toBe(true);
    expect(completed).toEqual(['r1']);
    expect(removed).toEqual(['svc1', 'cfg1']);
  });
});

describe('which database a command waits for', () => {
  it("only the context's own URL carries the service up deployed for it", async () => {
    const { resolveConfig } = await import('../../src/config/resolve.js');
    const file = { currentContext: 'default', contexts: { default: { database: 'postgres://faas:pw@127.0.0.1:5432/faas', databaseService: 'faasctl-postgres' } } };
    expect(resolveConfig({ flags: {}, env: {}, file }).databaseService).toEqual({ value: 'faasctl-postgres', source: 'context:default' });
    // Another URL (a flag, the environment) is not the one up manages: no wait.
    expect(resolveConfig({ flags: { db: 'postgres://x@db:5432/x' }, env: {}, file }).databaseService.value).toBeUndefined();
    expect(resolveConfig({ flags: {}, env: { FAASCTL_DATABASE_URL: 'postgres://x@db:5432/x' }, file }).databaseService.value).toBeUndefined();
  });
});
