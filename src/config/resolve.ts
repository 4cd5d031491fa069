import { DEFAULT_CONTEXT, DEFAULT_DOCKER_HOST, type ConfigFile, type ContextEntry, type TlsFiles } from './types.js';

/** Where a resolved value came from, for `context show` and `doctor`. */
export type Source = 'flag' | 'file' | `env:${string}` | `context:${string}` | 'default';

export interface Resolved<T> {
  value: T;
  source: Source;
}

export interface ConfigFlags {
  context?: string;
  host?: string;
  db?: string;
  sshKey?: string;
  sshInsecureIgnoreHostKey?: boolean;
  dbViaSsh?: boolean;
}

export interface ResolvedSsh {
  key: Resolved<string | undefined>;
  knownHosts: Resolved<string | undefined>;
  /** Only ever from the flag: skipping host key checks is never stored or inherited. */
  insecureIgnoreHostKey: boolean;
  agentSocket?: string;
}

export interface ResolvedConfig {
  contextName: Resolved<string>;
  /** The context entry in the file, if the chosen context exists there. */
  context: ContextEntry | undefined;
  host: Resolved<string>;
  tls: Resolved<TlsFiles | undefined>;
  databaseUrl: Resolved<string | undefined>;
  databaseViaSsh: Resolved<boolean>;
  /** The PostgreSQL service `up` manages for this URL; only when the URL is the context's own. */
  databaseService: Resolved<string | undefined>;
  ssh: ResolvedSsh;
  /** HOST:PORT every node pulls faasctl's images from; none on a one-node Swarm. */
  registry: Resolved<string | undefined>;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The single precedence rule: flag > FAASCTL_* env > an explicitly chosen context
 * (--context or FAASCTL_CONTEXT) > generic env (DOCKER_HOST, DATABASE_URL) > the
 * current context of the file > default. An explicit context beats DOCKER_HOST, as
 * `docker --context` does; the file's current context does not.
 */
export function resolveConfig(input: { flags: ConfigFlags; env: Env; file: ConfigFile }): ResolvedConfig {
  const { flags, env, file } = input;
  const contextName = resolveContextName(flags, env, file);
  const explicit = contextName.source === 'flag' || contextName.source === 'env:FAASCTL_CONTEXT';
  const context = file.contexts[contextName.value];
  const fromContext = `context:${contextName.value}` as const;

  const host = first<string>(
    [flags.host, 'flag'],
    [env.FAASCTL_HOST, 'env:FAASCTL_HOST'],
    [explicit ? context?.host : undefined, fromContext],
    [env.DOCKER_HOST, 'env:DOCKER_HOST'],
    [context?.host, fromContext],
  ) ?? { value: DEFAULT_DOCKER_HOST, source: 'default' };

  const databaseUrl = first<string>(
    [flags.db, 'flag'],
    [env.FAASCTL_DATABASE_URL, 'env:FAASCTL_DATABASE_URL'],
    [explicit ? context?.database : undefined, fromContext],
    [env.DATABASE_URL, 'env:DATABASE_URL'],
    [context?.database, fromContext],
  ) ?? { value: undefined, source: 'default' };

  const viaSsh = first<boolean>(
    [flags.dbViaSsh ? true : undefined, 'flag'],
    [envFlag(env.FAASCTL_DB_VIA_SSH), 'env:FAASCTL_DB_VIA_SSH'],
    [databaseUrl.source === fromContext ? context?.databaseViaSsh : undefined, fromContext],
  ) ?? { value: false, source: 'default' };

  const databaseService = databaseUrl.source === fromContext && context?.databaseService ? { value: context.databaseService, source: fromContext } : { value: undefined, source: 'default' as const };

  const registry = first<string>([env.FAASCTL_REGISTRY, 'env:FAASCTL_REGISTRY'], [context?.registry, fromContext]) ?? { value: undefined, source: 'default' };

  return {
    contextName,
    context,
    host,
    tls: resolveTls(host, env, context, fromContext),
    databaseUrl,
    databaseViaSsh: viaSsh,
    databaseService,
    ssh: resolveSsh(flags, env, host, context, fromContext),
    registry,
  };
}

/** SSH settings follow the host, like TLS files: the context's own only when the host came from it. */
function resolveSsh(flags: ConfigFlags, env: Env, host: Resolved<string>, context: ContextEntry | undefined, fromContext: Source): ResolvedSsh {
  const own = host.source === fromContext ? context?.ssh : undefined;
  return {
    key: first<string>([flags.sshKey, 'flag'], [env.FAASCTL_SSH_KEY, 'env:FAASCTL_SSH_KEY'], [own?.key, fromContext]) ?? { value: undefined, source: 'default' },
    knownHosts: first<string>([env.FAASCTL_SSH_KNOWN_HOSTS, 'env:FAASCTL_SSH_KNOWN_HOSTS'], [own?.knownHosts, fromContext]) ?? { value: undefined, source: 'default' },
    insecureIgnoreHostKey: Boolean(flags.sshInsecureIgnoreHostKey),
    agentSocket: env.SSH_AUTH_SOCK || undefined,
  };
}

function envFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
}

function resolveContextName(flags: ConfigFlags, env: Env, file: ConfigFile): Resolved<string> {
  return first<string>([flags.context, 'flag'], [env.FAASCTL_CONTEXT, 'env:FAASCTL_CONTEXT'], [file.currentContext, 'file']) ?? { value: DEFAULT_CONTEXT, source: 'default' };
}

/** TLS files follow the host: the context's own when the host came from it, else DOCKER_CERT_PATH. */
function resolveTls(host: Resolved<string>, env: Env, context: ContextEntry | undefined, fromContext: Source): Resolved<TlsFiles | undefined> {
  if (host.source === fromContext && context?.tls) return { value: context.tls, source: fromContext };
  const certPath = env.DOCKER_CERT_PATH;
  if (certPath) {
    const dir = certPath.replace(/\/+$/, '');
    return { value: { ca: `${dir}/ca.pem`, cert: `${dir}/cert.pem`, key: `${dir}/key.pem` }, source: 'env:DOCKER_CERT_PATH' };
  }
  return { value: undefined, source: 'default' };
}

function first<T>(...candidates: Array<[T | undefined, Source]>): Resolved<T> | undefined {
  for (const [value, source] of candidates) {
    if (value !== undefined && value !== '') return { value, source };
  }
  return undefined;
}

/** Replaces the password of a URL with `***`, for anything shown to a person. */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
