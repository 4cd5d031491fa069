import Docker from 'dockerode';
import pg from 'pg';
import { afterAll, afterEach, expect } from 'vitest';
import { runCli } from './cli.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

export interface Leftovers {
  services: string[];
  tasks: string[];
  containers: string[];
  inputConfigs: string[];
  /** Code configs of this database's deploys that no version refers to, or versions whose config is missing. */
  codeConfigs: string[];
  openRequests: string[];
  functionsWithoutVersion: string[];
  /** Warm replica services of this installation whose function is no longer warm (or is gone). */
  warmServices: string[];
  /** Bulk replica services of this installation: each lives only as long as its run. */
  bulkServices: string[];
  /** Token secrets of this installation that no warm service of a warm function uses. */
  tokenSecrets: string[];
}

/**
 * What faasctl left of this database's users on the engine, and half-written rows in it.
 * Scoped by the users' ids (every faasctl object carries io.faasctl.user), so test files
 * running in parallel on one Swarm do not see each other's work; replica services and token
 * secrets are scoped by the database's installation id too. A warm function's service (and
 * its tasks, containers and token) is not a leftover while the function is warm.
 */
export async function leftovers(databaseUrl: string): Promise<Leftovers> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const users = (await client.query<{ id: string }>('SELECT id FROM users')).rows.map((r) => r.id);
    const requests = new Set((await client.query<{ id: string }>('SELECT id FROM requests')).rows.map((r) => r.id));
    const open = (await client.query<{ id: string }>("SELECT id FROM requests WHERE status IN ('pending', 'running')")).rows.map((r) => r.id);
    const orphans = (
      await client.query<{ name: string }>('SELECT f.name FROM functions f WHERE NOT EXISTS (SELECT 1 FROM function_versions v WHERE v.function_id = f.id AND v.version = f.current_version)')
    ).rows.map((r) => r.name);
    const used = new Set((await client.query<{ sha256: string }>('SELECT DISTINCT sha256 FROM function_versions')).rows.map((r) => r.sha256));
    const deployed = new Set((await client.query<{ sha: string }>("SELECT DISTINCT params->>'sha256' AS sha FROM requests WHERE params ? 'sha256'")).rows.map((r) => r.sha));
    const installation = (await client.query<{ value: string }>("SELECT value FROM faasctl_meta WHERE key = 'installation_id'")).rows[0]?.value;
    const replicas = await replicaObjects(client, installation);
    const byUser = (labels: Record<string, string> | undefined) => users.includes(labels?.['io.faasctl.user'] ?? '');
    const isReplica = (labels: Record<string, string> | undefined) => REPLICA_COMPONENTS.includes(labels?.[COMPONENT] ?? '');
    const services = (await docker.listServices({ filters: JSON.stringify({ label: ['io.faasctl.managed'] }) } as object)).filter((s) => byUser(s.Spec?.Labels) && !isReplica(s.Spec?.Labels));
    const tasks = (await docker.listTasks({ filters: JSON.stringify({ label: ['io.faasctl.managed'] }) } as object)).filter(
      (t) => byUser((t as { Spec?: { ContainerSpec?: { Labels?: Record<string, string> } } }).Spec?.ContainerSpec?.Labels) && !replicas.live.has(t.ServiceID ?? ''),
    );
    const containers = (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['io.faasctl.managed'] }) })).filter(
      (c) => byUser(c.Labels) && !replicas.live.has(c.Labels?.['com.docker.swarm.service.id'] ?? ''),
    );
    const configs = (await docker.listConfigs({ filters: JSON.stringify({ label: ['io.faasctl.managed'] }) } as object)) as unknown as Array<{
      ID: string;
      Spec: { Name: string; Labels?: Record<string, string> };
    }>;
    const inputConfigs = configs.filter((c) => requests.has(c.Spec.Labels?.['io.faasctl.request'] ?? '')).map((c) => c.Spec.Name);
    // Another installation on this Swarm may hold a config of the same code (the examples).
    const codeShas = new Set(
      configs
        .filter((c) => c.Spec.Labels?.['io.faasctl.installation'] === installation)
        .map((c) => c.Spec.Labels?.['io.faasctl.sha256'])
        .filter(Boolean),
    );
    const codeConfigs = [
      ...[...deployed].filter((sha) => codeShas.has(sha) && !used.has(sha)).map((sha) => `unreferenced ${sha.slice(0, 12)}`),
      ...[...used].filter((sha) => !codeShas.has(sha)).map((sha) => `missing ${sha.slice(0, 12)}`),
    ];
    return {
      services: services.map((s) => s.Spec?.Name ?? s.ID),
      tasks: tasks.map((t) => `${t.ID} ${t.Status?.State}`),
      containers: containers.map((c) => `${c.Names?.[0]} ${c.State}`),
      inputConfigs,
      codeConfigs,
      openRequests: open,
      functionsWithoutVersion: orphans,
      warmServices: replicas.warmServices,
      bulkServices: replicas.bulkServices,
      tokenSecrets: replicas.tokenSecrets,
    };
  } finally {
    await client.end();
  }
}

export const NONE: Leftovers = {
  services: [],
  tasks: [],
  containers: [],
  inputConfigs: [],
  codeConfigs: [],
  openRequests: [],
  functionsWithoutVersion: [],
  warmServices: [],
  bulkServices: [],
  tokenSecrets: [],
};

const COMPONENT = 'io.faasctl.component';
const REPLICA_COMPONENTS = ['warm', 'bulk'];

interface ServiceWithSecrets {
  ID: string;
  Spec?: { Name?: string; Labels?: Record<string, string>; TaskTemplate?: { ContainerSpec?: { Secrets?: Array<{ SecretID?: string }> } } };
}

/**
 * The installation's warm and bulk services and token secrets, split into the ones a warm
 * function is using (`live`: service ids) and leftovers.
 */
async function replicaObjects(client: pg.Client, installation: string | undefined): Promise<{ live: Set<string>; warmServices: string[]; bulkServices: string[]; tokenSecrets: string[] }> {
  if (!installation) return { live: new Set(), warmServices: [], bulkServices: [], tokenSecrets: [] };
  const mine = `io.faasctl.installation=${installation}`;
  const warmFunctions = new Set((await client.query<{ id: string }>('SELECT id FROM functions WHERE warm_replicas > 0')).rows.map((r) => r.id));
  const services = (await docker.listServices({ filters: JSON.stringify({ label: [mine] }) } as object)) as unknown as ServiceWithSecrets[];
  const component = (s: ServiceWithSecrets) => s.Spec?.Labels?.[COMPONENT];
  const live = services.filter((s) => component(s) === 'warm' && warmFunctions.has(s.Spec?.Labels?.['io.faasctl.function'] ?? ''));
  const used = new Set(live.flatMap((s) => s.Spec?.TaskTemplate?.ContainerSpec?.Secrets?.map((x) => x.SecretID ?? '') ?? []));
  const secrets = await docker.listSecrets({ filters: JSON.stringify({ label: [mine, `${COMPONENT}=token`] }) });
  return {
    live: new Set(live.map((s) => s.ID)),
    warmServices: services.filter((s) => component(s) === 'warm' && !live.includes(s)).map((s) => s.Spec?.Name ?? s.ID),
    bulkServices: services.filter((s) => component(s) === 'bulk').map((s) => s.Spec?.Name ?? s.ID),
    tokenSecrets: secrets.filter((x) => !used.has(x.ID)).map((x) => x.Spec?.Name ?? x.ID),
  };
}

/** Removal is asynchronous on the engine (tasks and containers go a moment after the service). */
export async function settledLeftovers(databaseUrl: string, timeoutMs = 15_000): Promise<Leftovers> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await leftovers(databaseUrl);
    if (JSON.stringify(found) === JSON.stringify(NONE) || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function query<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * The hooks an e2e file with a logged-in user shares: nothing of its installation is left after
 * each test; at the end its user, gc's leftovers and its database go. `get` is read when the
 * hooks run (the file's beforeAll sets the database and environment).
 */
export function cleansUpAfterEach(get: () => { db?: { url: string; drop(): Promise<void> }; env: Record<string, string | undefined> }): void {
  afterEach(async () => {
    expect(await settledLeftovers(get().db!.url)).toEqual(NONE);
  });
  afterAll(async () => {
    const { db, env } = get();
    await runCli(['user', 'delete', '--force', '--yes'], { env }).catch(() => {});
    await runCli(['gc'], { env }).catch(() => {});
    await db?.drop();
  });
}
