import { describe, expect, it, vi } from 'vitest';
import { AuthError, ConflictError, ConnectionError, NotFoundError, TimeoutError } from '../../src/base/errors.js';
import type { Clock } from '../../src/base/ports.js';
import { databaseHost, deployPostgres, validatePostgresName, type PostgresDeps } from '../../src/core/platform/postgres-service.js';
import type { SwarmTask } from '../../src/swarm/client.js';
import type { ServiceSpec } from '../../src/swarm/spec.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const options = { name: 'faasctl-postgres', image: 'postgres:16', port: 5432, host: '127.0.0.1', contextName: 'default', timeoutMs: 10_000 };
const URL = 'postgres://faasctl:pw-1@127.0.0.1:5432/faasctl';

function fakeClock(): Clock & { slept: number } {
  let t = 0;
  return {
    slept: 0,
    now: () => new Date(t),
    async sleep(ms) {
      t += ms;
      this.slept += ms;
    },
  };
}

const task = (state: string, extra: Partial<SwarmTask> = {}): SwarmTask => ({ id: 't1', state, desiredState: 'running', message: state, ...extra });

/** A swarm where nothing exists yet and every creation is recorded. */
function setup(tasks: SwarmTask[][], overrides: Partial<PostgresDeps> = {}, volumeExists = false) {
  const removed: string[] = [];
  let created: ServiceSpec | undefined;
  let poll = 0;
  const swarm = new FakeSwarm({
    inspectService: async () => undefined,
    findSecret: async () => undefined,
    volumeExists: async () => volumeExists,
    createSecret: vi.fn(async () => 'sec-1'),
    createVolume: vi.fn(async () => {}),
    createService: async (spec) => {
      created = spec;
      return 'svc-1';
    },
    listTasks: async () => tasks[Math.min(poll++, tasks.length - 1)]!,
    removeService: async (id) => void removed.push(`service ${id}`),
    removeSecret: async (id) => void removed.push(`secret ${id}`),
    removeVolume: async (name) => void removed.push(`volume ${name}`),
  });
  const clock = fakeClock();
  const deps: PostgresDeps = {
    swarm,
    clock,
    log: { debug: () => {} },
    progress: () => {},
    warn: vi.fn(),
    probe: vi.fn(async () => {}),
    randomPassword: () => 'pw-1',
    saveUrl: vi.fn(async () => {}),
    ...overrides,
  };
  return { deps, swarm, clock, removed, spec: () => created };
}

describe('deployPostgres', () => {
  it('creates secret, volume and pinned service, waits for a real query, then saves the URL', async () => {
    const t = setup([[task('pending')], [task('starting')], [task('running')]]);
    const deployed = await deployPostgres(t.deps, options);
    expect(deployed).toMatchObject({ url: URL, volumeExisted: false });
    expect(t.swarm.createSecret).toHaveBeenCalledWith('faasctl-postgres-password', 'pw-1', { 'io.faasctl.managed': 'true', 'io.faasctl.component': 'postgres' });
    expect(t.swarm.createVolume).toHaveBeenCalledWith('faasctl-postgres-data', expect.any(Object));
    expect(t.spec()?.TaskTemplate.Placement?.Constraints).toEqual(['node.id==n1']);
    expect(t.deps.probe).toHaveBeenCalledWith(URL);
    expect(t.deps.saveUrl).toHaveBeenCalledWith(URL);
    expect(t.removed).toEqual([]);
  });

  it('refuses to make a second password when the service exists but no URL is configured', async () => {
    const t = setup([]);
    t.swarm.inspectService = async () => ({ id: 'old', name: 'faasctl-postgres', labels: {}, createdAt: new Date(0), env: [] });
    const err = await deployPostgres(t.deps, options).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('the PostgreSQL service faasctl-postgres already exists, but context "default" has no database URL');
    expect(err.hint).toContain('--db');
    expect(t.swarm.createSecret).not.toHaveBeenCalled();
  });

  it('fails fast on a rejected task and removes service, secret and the volume it created', async () => {
    const t = setup([[task('rejected', { error: 'No such image: nope:1' })]]);
    const err = await deployPostgres(t.deps, { ...options, image: 'nope:1' }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe('PostgreSQL service faasctl-postgres did not start: task rejected: No such image: nope:1');
    expect(t.clock.slept).toBe(0);
    expect(t.removed).toEqual(['service svc-1', 'secret sec-1', 'volume faasctl-postgres-data']);
  });

  it('treats a host-mode port held by another service as fatal, and keeps a volume that was there before', async () => {
    const pending = task('pending', { error: 'no suitable node (host-mode port already in use on 1 node)' });
    const t = setup([[pending]], {}, true);
    await expect(deployPostgres(t.deps, options)).rejects.toBeInstanceOf(ConnectionError);
    expect(t.swarm.createVolume).not.toHaveBeenCalled();
    expect(t.removed).toEqual(['service svc-1', 'secret sec-1']);
  });

  it('times out naming the task state and the last error, then cleans up', async () => {
    const probe = vi.fn(async () => {
      throw new ConnectionError('cannot reach PostgreSQL at 127.0.0.1:5432/faasctl (ECONNREFUSED)');
    });
    const t = setup([[task('running')]], { probe });
    const err = await deployPostgres(t.deps, options).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('PostgreSQL service faasctl-postgres was not ready within 10 s (task running; last error: cannot reach PostgreSQL at 127.0.0.1:5432/faasctl (ECONNREFUSED))');
    expect(t.removed).toHaveLength(3);
    expect(t.deps.saveUrl).not.toHaveBeenCalled();
  });

  it('stops at a refused login: an existing volume was made with another password', async () => {
    const t = setup([[task('running')]], { probe: async () => Promise.reject(new AuthError('password authentication failed')) }, true);
    const err = await deployPostgres(t.deps, options).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('the volume faasctl-postgres-data holds a database made with another password');
  });

  it('undoes the deploy when the URL cannot be saved, and rethrows the original error', async () => {
    const t = setup([[task('running')]], { saveUrl: async () => Promise.reject(new Error('EROFS')) });
    t.swarm.removeSecret = async () => Promise.reject(new Error('engine gone'));
    await expect(deployPostgres(t.deps, options)).rejects.toThrow('EROFS');
    expect(t.removed).toEqual(['service svc-1', 'volume faasctl-postgres-data']);
    expect(t.deps.warn).toHaveBeenCalledWith('could not remove secret sec-1 (engine gone); remove it with docker');
  });

  it('waits for a volume the stopping container still holds', async () => {
    const t = setup([[task('failed', { error: 'task: non-zero exit (1)' })]]);
    let busy = 2;
    t.swarm.removeVolume = async () => {
      if (busy-- > 0) throw new ConflictError('volume is in use');
    };
    await expect(deployPostgres(t.deps, options)).rejects.toThrow('task failed: task: non-zero exit (1)');
    expect(t.clock.slept).toBe(500);
    expect(t.deps.warn).not.toHaveBeenCalled();
  });
});

describe('helpers', () => {
  it('validates the service name', () => {
    expect(validatePostgresName('faasctl-it-1234abcd')).toBe('faasctl-it-1234abcd');
    for (const bad of ['', '-x', 'Upper', 'under_score', 'a'.repeat(42)]) expect(() => validatePostgresName(bad)).toThrow(/invalid PostgreSQL service name/);
  });

  it('derives the database host from the Docker host', () => {
    expect(databaseHost('unix:///var/run/docker.sock')).toBe('127.0.0.1');
    expect(databaseHost('tcp://10.0.0.5:2376')).toBe('10.0.0.5');
    expect(databaseHost('ssh://me@manager.example')).toBe('manager.example');
  });
});
