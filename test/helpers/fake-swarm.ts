import type { SwarmClient } from '../../src/swarm/client.js';

/** A default that fails the test when a call nobody stubbed happens. */
function unexpected(name: string): () => Promise<never> {
  return async () => {
    throw new Error(`unexpected ${name}`);
  };
}

/** The same for a method that answers a stream rather than a promise: it fails on the call. */
function unexpectedStream(name: string): () => never {
  return () => {
    throw new Error(`unexpected ${name}`);
  };
}

/** A SwarmClient for unit tests of pure logic: override the fields a test needs. */
export class FakeSwarm implements SwarmClient {
  endpoint = 'unix:///fake.sock';
  engineInfo: SwarmClient['engineInfo'] = async () => ({ version: '20.10.24', apiVersion: '1.41', os: 'linux', arch: 'amd64' });
  swarmState: SwarmClient['swarmState'] = async () => ({ localNodeState: 'active', isManager: true, nodeId: 'n1', nodeAddr: '127.0.0.1' });
  initSwarm: SwarmClient['initSwarm'] = unexpected('initSwarm');
  listNodes: SwarmClient['listNodes'] = async () => [{ id: 'n1', hostname: 'node-1', role: 'manager', state: 'ready', availability: 'active', leader: true, cpus: 2, memoryBytes: 2 ** 34 }];
  imageExists: SwarmClient['imageExists'] = async () => true;
  buildImage: SwarmClient['buildImage'] = unexpected('buildImage');
  imageId: SwarmClient['imageId'] = async (ref) => `sha256:id-of-${ref}`;
  buildImageFromFiles: SwarmClient['buildImageFromFiles'] = unexpected('buildImageFromFiles');
  pushImage: SwarmClient['pushImage'] = unexpected('pushImage');
  imageLabels: SwarmClient['imageLabels'] = unexpected('imageLabels');
  tagImage: SwarmClient['tagImage'] = unexpected('tagImage');
  listImages: SwarmClient['listImages'] = async () => [];
  removeImage: SwarmClient['removeImage'] = unexpected('removeImage');
  pushedDigest: SwarmClient['pushedDigest'] = unexpected('pushedDigest');
  findSecret: SwarmClient['findSecret'] = unexpected('findSecret');
  createSecret: SwarmClient['createSecret'] = unexpected('createSecret');
  removeSecret: SwarmClient['removeSecret'] = unexpected('removeSecret');
  listSecrets: SwarmClient['listSecrets'] = unexpected('listSecrets');
  createService: SwarmClient['createService'] = unexpected('createService');
  inspectService: SwarmClient['inspectService'] = unexpected('inspectService');
  listServices: SwarmClient['listServices'] = unexpected('listServices');
  updateService: SwarmClient['updateService'] = unexpected('updateService');
  removeService: SwarmClient['removeService'] = unexpected('removeService');
  listTasks: SwarmClient['listTasks'] = unexpected('listTasks');
  listTasksByLabel: SwarmClient['listTasksByLabel'] = unexpected('listTasksByLabel');
  serviceLogs: SwarmClient['serviceLogs'] = unexpectedStream('serviceLogs');
  taskLogs: SwarmClient['taskLogs'] = unexpected('taskLogs');
  findConfig: SwarmClient['findConfig'] = unexpected('findConfig');
  createConfig: SwarmClient['createConfig'] = unexpected('createConfig');
  listConfigs: SwarmClient['listConfigs'] = unexpected('listConfigs');
  removeConfig: SwarmClient['removeConfig'] = unexpected('removeConfig');
  runContainer: SwarmClient['runContainer'] = unexpected('runContainer');
  listContainers: SwarmClient['listContainers'] = unexpected('listContainers');
  removeContainer: SwarmClient['removeContainer'] = unexpected('removeContainer');
  containerStats: SwarmClient['containerStats'] = unexpected('containerStats');
  volumeExists: SwarmClient['volumeExists'] = unexpected('volumeExists');
  createVolume: SwarmClient['createVolume'] = unexpected('createVolume');
  removeVolume: SwarmClient['removeVolume'] = unexpected('removeVolume');
  close = async () => {};

  constructor(overrides: Partial<SwarmClient> = {}) {
    Object.assign(this, overrides);
  }
}
