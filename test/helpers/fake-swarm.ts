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
  findSecret: SwarmClient['findSecret'] = async () => {
    throw new Error('unexpected findSecret');
  };
  createSecret: SwarmClient['createSecret'] = async () => {
    throw new Error('unexpected createSecret');
  };
  removeSecret: SwarmClient['removeSecret'] = async () => {
    throw new Error('unexpected removeSecret');
  };
  createService: SwarmClient['createService'] = async () => {
    throw new Error('unexpected createService');
  };
  inspectService: SwarmClient['inspectService'] = async () => {
    throw new Error('unexpected inspectService');
  };
  removeService: SwarmClient['removeService'] = async () => {
    throw new Error('unexpected removeService');
  };
  listTasks: SwarmClient['listTasks'] = async () => {
    throw new Error('unexpected listTasks');
  };
  volumeExists: SwarmClient['volumeExists'] = async () => {
    throw new Error('unexpected volumeExists');
  };
  createVolume: SwarmClient['createVolume'] = async () => {
    throw new Error('unexpected createVolume');
  };
  removeVolume: SwarmClient['removeVolume'] = async () => {
    throw new Error('unexpected removeVolume');
  };
  close = async () => {};

  constructor(overrides: Partial<SwarmClient> = {}) {
    Object.assign(this, overrides);
  }
}
