import { componentLabels, installationLabel } from './labels.js';
import type { ServiceSpec } from './spec.js';

export interface DispatcherServiceOptions {
  name: string;
  image: string;
  installation: string;
  /** The Swarm secret holding the database URL (the URL never appears in the spec). */
  secretId: string;
  secretName: string;
  replicas: number;
  registry?: string;
  /** More secrets as files, each named to the process by an environment variable (TLS, the webhook key). */
  files?: Array<{ secretId: string; secretName: string; env: string }>;
  /** Further environment (the API's port and rate). */
  env?: string[];
}

const SOCKET = '/var/run/docker.sock';

/**
 * `faasctl dispatcher` as a service (issue 20):
 * - on a manager, with the engine's socket: it starts invocation services as the CLI does;
 * - the node's network: it reaches a database on the manager's loopback, as `up` configured it,
 *   and warm replicas on their host-mode ports;
 * - the database URL as a secret file, read by a shell into the environment at start;
 * - restart `any`: a killed task comes back; a second replica is a standby (advisory lock).
 */
export function buildDispatcherServiceSpec(o: DispatcherServiceOptions): ServiceSpec {
  const labels = { ...componentLabels('dispatcher'), ...installationLabel(o.installation) };
  const secretFile = `/run/secrets/${o.secretName}`;
  return {
    Name: o.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        // The image's entrypoint is node + faasctl; the shell only moves the secret into the environment.
        Args: ['dispatcher'],
        Env: [
          `FAASCTL_HOST=unix://${SOCKET}`,
          'FAASCTL_HOLDER={{.Task.Name}}',
          `FAASCTL_DATABASE_URL_FILE=${secretFile}`,
          'HOME=/tmp',
          ...(o.registry ? [`FAASCTL_REGISTRY=${o.registry}`] : []),
          ...(o.files ?? []).map((f) => `${f.env}=/run/secrets/${f.secretName}`),
          ...(o.env ?? []),
        ],
        Labels: labels,
        Init: true,
        Mounts: [{ Type: 'bind', Source: SOCKET, Target: SOCKET }],
        Secrets: [{ secretId: o.secretId, secretName: o.secretName }, ...(o.files ?? [])].map((f) => ({
          SecretID: f.secretId,
          SecretName: f.secretName,
          File: { Name: f.secretName, UID: '0', GID: '0', Mode: 0o400 },
        })),
        // Running attempts get a few seconds to end; the rest are adopted by the next leader.
        StopGracePeriod: 8_000_000_000,
      },
      RestartPolicy: { Condition: 'any', Delay: 1_000_000_000 },
      Placement: { Constraints: ['node.role==manager'] },
      Networks: [{ Target: 'host' }],
    },
    Mode: { Replicated: { Replicas: o.replicas } },
  };
}
