import { describe, expect, it } from 'vitest';
import { deleteUser } from '../../src/core/deletes/user-delete.js';
import { ConnectionError, EXIT } from '../../src/base/errors.js';
import type { Store } from '../../src/db/store.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const USER = { id: '11111111-1111-1111-1111-111111111111', name: 'alice' };

/** Only what deleteUser asks of the store; every write is recorded. */
function fakeStore(writes: string[]): Store {
  const repos = {
    users: { functionCount: async () => 1, remove: async () => (writes.push('user removed'), true) },
    meta: { installationId: async () => 'inst0000000000000000' },
    functions: { ownedBy: async () => ({ shas: [], images: [] }) },
    requests: {
      openOf: async () => [],
      complete: async () => true,
      markOwnerDeleted: async () => void writes.push('history left to gc'),
      insert: async () => void writes.push('delete row'),
    },
  };
  return { ...repos, transaction: async (fn: (tx: unknown) => Promise<unknown>) => fn(repos) } as unknown as Store;
}

function deps(swarm: FakeSwarm, writes: string[]) {
  const clock = { now: () => new Date('2026-01-01T00:00:00Z'), sleep: async () => {} };
  return { store: fakeStore(writes), swarm, clock, log: { debug: () => {}, info: () => {}, warn: () => {} }, sleep: async () => {}, newId: () => 'req-1' } as unknown as Parameters<
    typeof deleteUser
  >[0];
}

describe('user delete', () => {
  it('refuses before changing anything when the engine cannot be read', async () => {
    const swarm = new FakeSwarm();
    swarm.listServices = async () => {
      throw new ConnectionError('cannot reach the Docker engine');
    };
    const writes: string[] = [];
    await expect(deleteUser(deps(swarm, writes), USER, { force: true })).rejects.toThrow(/cannot reach/);
    expect(writes).toEqual([]);
  });

  it("says faasctl gc finishes it when an engine step fails after the rows are gone, keeping the cause's exit code", async () => {
    const swarm = new FakeSwarm();
    swarm.listServices = async () => [{ id: 'svc1', name: 'faasctl-warm-x', labels: {} } as never];
    swarm.removeService = async () => {
      throw new ConnectionError('the engine went away');
    };
    const writes: string[] = [];
    const err = await deleteUser(deps(swarm, writes), USER, { force: true }).catch((e: unknown) => e as { message: string; hint: string; code: string; exitCode: number });
    expect(writes).toEqual(['user removed', 'history left to gc', 'delete row']);
    expect(err).toMatchObject({ code: 'cleanup_incomplete', exitCode: EXIT.connection, hint: expect.stringMatching(/faasctl gc finishes it/) });
    expect(err.message).toMatch(/^user alice was deleted, but removing their objects from the engine failed: the engine went away$/);
  });
});
