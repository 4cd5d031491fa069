/** Paths of the TLS files for a tcp:// Docker host. */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** How to log in to an ssh:// host. */
export interface SshSettings {
  /** Identity file. @default ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa */
  key?: string;
  /** known_hosts file. @default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts */
  knownHosts?: string;
}

/** A logged-in faasctl user, as stored per context. Never holds a password. */
export interface Session {
  userId: string;
  userName: string;
  token: string;
  /** ISO time after which the token is refused. */
  expiresAt: string;
}

/** A named connection: where the Swarm manager and the database are. */
export interface ContextEntry {
  /** Docker host URL: unix://, tcp:// or ssh://. @default unix:///var/run/docker.sock */
  host?: string;
  tls?: TlsFiles;
  /** PostgreSQL connection URL. Holds a password: shown redacted. */
  database?: string;
  /**
   * The Swarm service `faasctl up` deployed for `database`: after an engine restart or a
   * reboot, commands wait (bounded) for it to start instead of failing.
   */
  databaseService?: string;
  /**
   * Reach the database through the ssh:// host's connection: the URL's host and port are
   * dialled from the manager (e.g. its 127.0.0.1:5432). @default false
   */
  databaseViaSsh?: boolean;
  ssh?: SshSettings;
  description?: string;
  /** HOST:PORT of a registry every node can pull from (multi-node clusters). */
  registry?: string;
  session?: Session;
  /** The HTTP API and an invoke token (issue 25): `fn invoke`, `request show|wait|list` and `logs` go there. */
  api?: ApiAccess;
}

/** A token-only connection: no Docker API, no database. The token is a secret: never shown. */
export interface ApiAccess {
  /** https://HOST:PORT (or http://127.0.0.1:PORT on a trusted host). */
  url: string;
  token: string;
  /** CA certificate file that signed the API's certificate (a private CA). */
  ca?: string;
}

export interface ConfigFile {
  currentContext?: string;
  contexts: Record<string, ContextEntry>;
}

export const DEFAULT_CONTEXT = 'default';
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
