import { describe, expect, it } from 'vitest';
import { databaseHost, postgresObjectNames, validatePostgresName } from '../../src/core/postgres-service.js';
import { UsageError } from '../../src/core/errors.js';
import { buildPostgresServiceSpec } from '../../src/swarm/spec.js';

describe('the PostgreSQL service spec', () => {
  const spec = buildPostgresServiceSpec({ name: 'faasctl-postgres', image: 'postgres:16', port: 5432, nodeId: 'node-abc', secretId: 'sec-1', secretName: 'faasctl-postgres-password', volume: 'faasctl-postgres-data' });

  it('pins the task to the node holding the volume and publishes in host mode', () => {
    expect(spec.TaskTemplate.Placement?.Constraints).toEqual(['node.id==node-abc']);
    expect(spec.EndpointSpec?.Ports).toEqual([{ Protocol: 'tcp', TargetPort: 5432, PublishedPort: 5432, PublishMode: 'host' }]);
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(spec.TaskTemplate.RestartPolicy?.Condition).toBe('any');
  });

  it('passes the password as a secret file, never in the environment', () => {
    const c = spec.TaskTemplate.ContainerSpec;
    expect(c.Secrets?.[0]).toMatchObject({ SecretID: 'sec-1', SecretName: 'faasctl-postgres-password' });
    expect(c.Env).toContain(`POSTGRES_PASSWORD_FILE=/run/secrets/${c.Secrets?.[0]?.File.Name}`);
    expect(c.Env?.some((e) => e.startsWith('POSTGRES_PASSWORD='))).toBe(false);
    expect(c.Mounts).toEqual([{ Type: 'volume', Source: 'faasctl-postgres-data', Target: '/var/lib/postgresql/data' }]);
    expect(spec.Labels).toMatchObject({ 'io.faasctl.managed': 'true', 'io.faasctl.component': 'postgres' });
  });

  it('derives object names and the host the CLI connects to', () => {
    expect(postgresObjectNames('faasctl-postgres')).toEqual({ service: 'faasctl-postgres', secret: 'faasctl-postgres-password', volume: 'faasctl-postgres-data' });
    expect(databaseHost('unix:///var/run/docker.sock')).toBe('127.0.0.1');
    expect(databaseHost('tcp://10.0.0.5:2376')).toBe('10.0.0.5');
    expect(() => validatePostgresName('Bad Name')).toThrow(UsageError);
  });
});
