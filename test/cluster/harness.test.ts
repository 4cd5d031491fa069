import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE,
  NODE_NAMES,
  REGISTRY,
  clusterLeftovers,
  crashNode,
  cutNode,
  dockerOn,
  healNode,
  nodeAddr,
  nodeHost,
  restartNode,
  settledClusterLeftovers,
  waitForNodeState,
} from '../helpers/cluster.js';

/**
 * The multi-node harness itself (scripts/cluster.sh + test/helpers/cluster.ts), with the docker
 * CLI: nodes and roles, the registry path faasctl relies on (build and push on the manager, pull
 * by digest on the workers), and the failure primitives.
 */
const nonce = randomUUID().slice(0, 8);
const repo = `${REGISTRY}/fcl-harness/probe`;
const job = `fcl-harness-${nonce}`;
const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);

afterAll(async () => {
  // Whatever failed above: the nodes plugged in and running again, the job gone.
  await healNode(2).catch(() => {});
  await restartNode(3).catch(() => {});
  await dockerOn(1, ['service', 'rm', job]).catch(() => {});
});

describe('cluster harness', () => {
  it('has 3 Ready nodes: fcl-n1 the manager (leader), fcl-n2 and fcl-n3 workers, each on its own socket', async () => {
    const nodes = lines(await dockerOn(1, ['node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'])).sort();
    expect(nodes).toEqual(['fcl-n1 Ready Active Leader', 'fcl-n2 Ready Active', 'fcl-n3 Ready Active']);
    for (const [k, name] of NODE_NAMES.entries()) {
      const i = k + 1;
      const [hostname, addr, role] = (await dockerOn(i, ['info', '--format', '{{.Name}} {{.Swarm.NodeAddr}} {{.Swarm.ControlAvailable}}'])).split(' ');
      expect({ hostname, addr, manager: role === 'true' }).toEqual({ hostname: name, addr: nodeAddr(i), manager: i === 1 });
    }
    expect(nodeHost(1)).toMatch(/^unix:\/\/.*\/n1\/docker\.sock$/);
  });

  it('answers GET /v2/ on the registry, and the manager has the base image', async () => {
    const res = await fetch(`http://${REGISTRY}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await dockerOn(1, ['image', 'inspect', '--format', '{{.Id}}', BASE_IMAGE])).toMatch(/^sha256:/);
  });

  it('runs an image built and pushed on the manager on every node, pulled by digest from the registry', async () => {
    // Built on the manager (legacy builder: no buildx here), on the base image the manager has.
    const tag = `${repo}:${nonce}`;
    execFileSync('docker', ['-H', nodeHost(1), 'build', '-q', '-t', tag, '-'], {
      input: `FROM ${BASE_IMAGE}\nRUN echo ${nonce} > /harness-nonce\n`,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let t = Date.now();
    await dockerOn(1, ['push', '-q', tag]);
    const pushMs = Date.now() - t;
    const byDigest = JSON.parse(await dockerOn(1, ['image', 'inspect', '--format', '{{json .RepoDigests}}', tag]))[0] as string;
    expect(byDigest).toMatch(new RegExp(`^${repo.replace(/\./g, '\\.')}@sha256:[0-9a-f]{64}$`));
    for (const i of [2, 3]) await expect(dockerOn(i, ['image', 'inspect', byDigest])).rejects.toThrow(/No such image/);

    // One task per node (MaxReplicas 1), labelled as faasctl's are, so clusterLeftovers sees it.
    // A replicated service with restart condition none, as faasctl's invocations: on Docker 20.10
    // a removed replicated-job leaves its exited containers behind (moby#42789).
    t = Date.now();
    await dockerOn(1, [
      'service',
      'create',
      '-d',
      '-q',
      '--no-resolve-image',
      '--name',
      job,
      '--replicas',
      '3',
      '--replicas-max-per-node',
      '1',
      '--restart-condition',
      'none',
      '--label',
      'io.faasctl.managed=true',
      '--container-label',
      'io.faasctl.managed=true',
      '--env',
      'NODE={{.Node.Hostname}}',
      byDigest,
      'python3',
      '-c',
      'import os; print(os.environ["NODE"], open("/harness-nonce").read().strip())',
    ]);
    let tasks: string[] = [];
    while (Date.now() - t < 180_000) {
      tasks = lines(await dockerOn(1, ['service', 'ps', '--no-trunc', '--format', '{{.Node}}|{{.CurrentState}}|{{.Error}}', job]));
      if (tasks.some((x) => /\|(Failed|Rejected)/.test(x))) throw new Error(`a task failed:\n${tasks.join('\n')}`);
      if (tasks.filter((x) => x.includes('|Complete')).length === 3) break;
      await sleep(200);
    }
    const jobMs = Date.now() - t;
    expect(tasks.map((x) => x.split('|')[0]).sort()).toEqual([...NODE_NAMES]);
    expect(tasks.every((x) => x.includes('|Complete'))).toBe(true);
    const logs = lines(await dockerOn(1, ['service', 'logs', '--raw', job])).sort();
    expect(logs).toEqual(NODE_NAMES.map((n) => `${n} ${nonce}`));
    // The workers really pulled it: the image is there now, by digest.
    for (const i of [2, 3]) expect(await dockerOn(i, ['image', 'inspect', '--format', '{{.Id}}', byDigest])).toMatch(/^sha256:/);
    console.log(`harness: push ${pushMs} ms; 3-node job by digest (workers pulling) complete in ${jobMs} ms`);

    // clusterLeftovers sees the service on the manager and a container on every node ...
    const seen = await clusterLeftovers();
    expect(seen.services).toEqual([job]);
    expect(new Set(seen.containers.map((c) => c.split('/')[0]))).toEqual(new Set(NODE_NAMES));
    // ... and nothing once the service is removed.
    await dockerOn(1, ['service', 'rm', job]);
    expect(await settledClusterLeftovers()).toEqual({ services: [], containers: [] });
    for (const i of [1, 2, 3]) await dockerOn(i, ['image', 'rm', '-f', tag, byDigest]).catch(() => {});
  });

  it('crash-node 3: Down within 15 s, its engine gone; restart-node 3: Ready again', async () => {
    await crashNode(3);
    await expect(dockerOn(3, ['version'], 5_000)).rejects.toThrow();
    const downMs = await waitForNodeState(3, 'down', 15_000);
    const t = Date.now();
    await restartNode(3);
    const readyMs = await waitForNodeState(3, 'ready', 60_000);
    console.log(`harness: crash-node 3 -> Down in ${downMs} ms; restart-node 3 -> Ready in ${Date.now() - t} ms (${readyMs} ms after the engine answered)`);
    expect(await dockerOn(3, ['info', '--format', '{{.Swarm.LocalNodeState}}'])).toBe('active');
  });

  it('cut-node 2: Down within 15 s while its engine still runs; heal-node 2: Ready again', async () => {
    await cutNode(2);
    const downMs = await waitForNodeState(2, 'down', 15_000);
    expect(await dockerOn(2, ['version', '--format', '{{.Server.Version}}'])).not.toBe('');
    await healNode(2);
    const readyMs = await waitForNodeState(2, 'ready', 60_000);
    console.log(`harness: cut-node 2 -> Down in ${downMs} ms; heal-node 2 -> Ready in ${readyMs} ms`);
  });

  it('leaves nothing behind on any node', async () => {
    expect(await settledClusterLeftovers()).toEqual({ services: [], containers: [] });
    const nodes = lines(await dockerOn(1, ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])).sort();
    expect(nodes).toEqual(NODE_NAMES.map((n) => `${n} Ready`));
  });
});
