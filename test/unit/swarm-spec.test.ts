import { describe, expect, it } from 'vitest';
import { buildPostgresServiceSpec } from '../../src/swarm/spec.js';

const spec = buildPostgresServiceSpec({
  name: 'faasctl-postgres',
  image: 'postgres:16',
  port: 15432,
  nodeId: 'node-abc',
  secretId: 'sec-123',
  secretName: 'faasctl-postgres-password',
  volume: 'faasctl-postgres-data',
});
const container = spec.TaskTemplate.ContainerSpec;

describe('buildPostgresServiceSpec', () => {
  it('runs one replica pinned to the node that holds the volume', () => {
    expect(spec.Name).toBe('faasctl-postgres');
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(spec.TaskTemplate.Placement).toEqual({ Constraints: ['node.id==node-abc'] });
  });

  it('publishes the port in host mode, not through the ingress mesh', () => {
    expect(spec.EndpointSpec).toEqual({ Ports: [{ Protocol: 'tcp', TargetPort: 5432, PublishedPort: 15432, PublishMode: 'host' }] });
  });

  it('passes the password only as a secret file', () => {
    expect(container.Secrets).toEqual([{ SecretID: 'sec-123', SecretName: 'faasctl-postgres-password', File: { Name: 'faasctl-postgres-password', UID: '0', GID: '0', Mode: 0o444 } }]);
    expect(container.Env).toEqual(['POSTGRES_USER=faasctl', 'POSTGRES_DB=faasctl', 'POSTGRES_PASSWORD_FILE=/run/secrets/faasctl-postgres-password', 'PGDATA=/var/lib/postgresql/data']);
    expect(container.Env?.some((e) => e.startsWith('POSTGRES_PASSWORD='))).toBe(false);
  });

  it('keeps PGDATA on the named volume', () => {
    expect(container.Mounts).toEqual([{ Type: 'volume', Source: 'faasctl-postgres-data', Target: '/var/lib/postgresql/data' }]);
  });

  it('restarts always, without an init, with faasctl labels on service and container', () => {
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'any' });
    expect(container.Init).toBe(false);
    expect(container.Image).toBe('postgres:16');
    const labels = { 'io.faasctl.managed': 'true', 'io.faasctl.component': 'postgres' };
    expect(spec.Labels).toEqual(labels);
    expect(container.Labels).toEqual(labels);
  });
});
