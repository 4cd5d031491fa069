import type { SwarmClient } from '../../src/swarm/client.js';

/** A SwarmClient for unit tests of pure logic: override the fields a test needs. */
export class FakeSwarm implements SwarmClient {
  endpoint = 'unix:///fake.sock';
  engineInfo: SwarmClient['engineInfo'] = async () => ({ version: '20.10.24', apiVersion: '1.41', os: 'linux', arch: 'amd64' });
  swarmState: SwarmClient['swarmState'] = async () => ({ localNodeState: 'active', isManager: true, nodeId: 'n1', nodeAddr: '127.0.0.1' });
  initSwarm: SwarmClient['initSwarm'] = async () => {
    throw new Error('unexpected initSwarm');
  };
  listNodes: SwarmClient['listNodes'] = async () => [
    { id: 'n1', hostname: 'node-1', role: 'manager', state: 'ready', availability: 'active', leader: true, cpus: 2, memoryBytes: 2 ** 34 },
  ];
  imageExists: SwarmClient['imageExists'] = async () => true;
  buildImage: SwarmClient['buildImage'] = async () => {
    throw new Error('unexpected buildImage');
  };
  close = async () => {};

  constructor(overrides: Partial<SwarmClient> = {}) {
    Object.assign(this, overrides);
  }
}
