/** Paths of the TLS files for a tcp:// Docker host. */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
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
  description?: string;
  /** HOST:PORT of a registry every node can pull from (multi-node clusters). */
  registry?: string;
  session?: Session;
}

export interface ConfigFile {
  currentContext?: string;
  contexts: Record<string, ContextEntry>;
}

export const DEFAULT_CONTEXT = 'default';
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
