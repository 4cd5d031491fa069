import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { configPath, readConfigFile, writeConfigFile } from '../config/file.js';
import { type ConfigFlags, resolveConfig, type Env, type ResolvedConfig } from '../config/resolve.js';
import type { ApiAccess, ConfigFile } from '../config/types.js';
import { ForbiddenError, UsageError } from '../base/errors.js';
import { systemClock, type Clock, type Logger } from '../base/ports.js';
import type { Database, DatabaseDialer } from '../db/database.js';
import { waitLine } from './wait-line.js';
import type { SwarmClient } from '../swarm/client.js';
import { isSshHost, parseSshHost } from '../swarm/connect.js';
import type { SshTunnel } from '../swarm/ssh-tunnel.js';
import type { Store } from '../db/store.js';
import { IO, type Streams } from './io.js';
import { InquirerPrompter, type Prompter } from './prompter.js';

/** Options every command accepts (see program.ts): output switches, and the connection flags config resolves. */
export interface GlobalOptions extends ConfigFlags {
  json?: boolean;
  /** A jq expression applied to the --json output (implies --json). */
  jq?: string;
  debug?: boolean;
  color?: boolean;
  quiet?: boolean;
}

export interface ContextInit {
  streams?: Streams;
  env?: Env;
  homeDir?: string;
  clock?: Clock;
  /** Test seams: replace the real adapters. */
  swarm?: SwarmClient;
  db?: Database;
  prompter?: Prompter;
}

/**
 * The lazy factory every command receives. Nothing connects until a command asks,
 * so `--help` and `--version` never dial Docker or PostgreSQL.
 */
export class Context {
  readonly io: IO;
  readonly env: Env;
  readonly homeDir: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly prompter: Prompter;
  globals: GlobalOptions = {};
  /** The command being run (`fn deploy`), for messages that name it; set before its action. */
  commandName = 'this command';
  /** How a hint names what to do next: a command by default; the menu names its entries instead. */
  hintFor: (hint: string) => string = (hint) => hint;
  private file?: { path: string; data: ConfigFile };
  private resolved?: ResolvedConfig;
  private swarmClient?: Promise<SwarmClient>;
  private database?: Promise<Database>;
  /** Connections the database pool may open (the dispatcher raises it before its first query). */
  databaseConnections?: number;
  /** How long connecting to the database may take (completion gives up early; default 5 s). */
  databaseConnectTimeoutMs?: number;
  private tunnel?: Promise<SshTunnel>;
  private storeInstance?: Store;

  constructor(init: ContextInit = {}) {
    this.env = init.env ?? process.env;
    this.io = new IO(init.streams ?? processStreams(), this.env);
    this.homeDir = init.homeDir ?? homedir();
    this.clock = init.clock ?? systemClock;
    this.log = { debug: (m) => this.io.debug(m) };
    this.prompter = init.prompter ?? new InquirerPrompter(this.io);
    if (init.swarm) this.swarmClient = Promise.resolve(init.swarm);
    if (init.db) this.database = Promise.resolve(init.db);
  }

  setGlobals(globals: GlobalOptions): void {
    this.globals = globals;
    this.resolved = undefined;
    this.io.configure({ json: Boolean(globals.json || globals.jq !== undefined), quiet: Boolean(globals.quiet), debug: Boolean(globals.debug), color: globals.color !== false });
  }

  async configFile(): Promise<{ path: string; data: ConfigFile }> {
    if (!this.file) {
      const path = configPath(this.env, this.homeDir);
      this.file = { path, data: await readConfigFile(path) };
    }
    return this.file;
  }

  async saveConfig(data: ConfigFile): Promise<void> {
    const { path } = await this.configFile();
    await writeConfigFile(path, data);
    this.file = { path, data };
    this.resolved = undefined;
  }

  async config(): Promise<ResolvedConfig> {
    if (!this.resolved) {
      const { data } = await this.configFile();
      const { context, host, db, sshKey, sshInsecureIgnoreHostKey, dbViaSsh } = this.globals;
      this.resolved = resolveConfig({ flags: { context, host, db, sshKey, sshInsecureIgnoreHostKey, dbViaSsh }, env: withSecretFiles(this.env), file: data });
    }
    return this.resolved;
  }

  /** The context's HTTP API and token, when it has them: the commands that can, go there. */
  async api(): Promise<ApiAccess | undefined> {
    return (await this.config()).context?.api;
  }

  /**
   * A token-only context lacks the Docker API and the database: a command that needs them says
   * which, in one line (exit 10), rather than dialling a default socket that is not there.
   */
  async refuseTokenOnly(what: 'the Docker API' | 'the database' | 'a logged-in user', missing: boolean): Promise<void> {
    const cfg = await this.config();
    if (!cfg.context?.api || !missing) return;
    throw new ForbiddenError(`${this.commandName} needs ${what}, and context "${cfg.contextName.value}" holds only an API token`, {
      code: 'credential_missing',
      hint: "a token can run fn invoke, request show|wait|list and logs; for the rest use a context with --host and --db (an operator's)",
    });
  }

  swarm(): Promise<SwarmClient> {
    this.swarmClient ??= (async () => {
      const cfg = await this.config();
      await this.refuseTokenOnly('the Docker API', cfg.host.source === 'default');
      const tunnel = isSshHost(cfg.host.value) ? await this.sshTunnel() : undefined;
      const { connectSwarm } = await import('../swarm/docker-swarm-client.js');
      return connectSwarm(cfg.host.value, cfg.tls.value, this.log, tunnel);
    })();
    return this.swarmClient;
  }

  db(): Promise<Database> {
    this.database ??= (async () => {
      const cfg = await this.config();
      await this.refuseTokenOnly('the database', !cfg.databaseUrl.value);
      if (!cfg.databaseUrl.value) {
        throw new UsageError(`no database is configured for context "${cfg.contextName.value}"`, {
          code: 'no_database',
          hint: 'a new installation: faasctl up deploys one; joining an existing one: faasctl context add NAME --host ENGINE --db URL --use (or --db / FAASCTL_DATABASE_URL)',
        });
      }
      const dial = await this.databaseDialer();
      const { connectDatabase } = await import('../db/database.js');
      const db = await connectDatabase(cfg.databaseUrl.value, this.log, dial, { maxConnections: this.databaseConnections, connectTimeoutMs: this.databaseConnectTimeoutMs });
      if (cfg.databaseService.value) await this.awaitPlatformDatabase(db, cfg.databaseService.value);
      return db;
    })();
    return this.database;
  }

  /**
   * The PostgreSQL `up` deployed restarts with the engine (a reboot, a dockerd restart): a
   * command run at once waits for it, bounded, instead of failing with ECONNREFUSED. One
   * `SELECT 1` on the pool's first connection, which the command then reuses.
   */
  private async awaitPlatformDatabase(db: Database, service: string): Promise<void> {
    const probe = async () => void (await db.query('SELECT 1'));
    const { isStartingDatabase, waitForRestartedPostgres } = await import('../core/platform/postgres-restart.js');
    try {
      await probe();
    } catch (err) {
      if (!isStartingDatabase(err)) throw err;
      try {
        await waitForRestartedPostgres({ swarm: () => this.swarm(), clock: this.clock, log: this.log, progress: waitLine(this), probe }, { service }, err as Error);
      } catch (failed) {
        await db.close().catch(() => {});
        throw failed;
      }
    }
  }

  /** With --db-via-ssh, the database's host:port is dialled from the manager over the one SSH connection. */
  async databaseDialer(): Promise<DatabaseDialer | undefined> {
    const cfg = await this.config();
    if (!cfg.databaseViaSsh.value) return undefined;
    if (!isSshHost(cfg.host.value)) {
      throw new UsageError(`the database is set to go through SSH (${cfg.databaseViaSsh.source}) but the Docker host is ${cfg.host.value}`, {
        hint: 'use an ssh:// --host, or drop --db-via-ssh / FAASCTL_DB_VIA_SSH',
      });
    }
    const tunnel = await this.sshTunnel();
    const { TunnelSocket } = await import('../swarm/tunnel-socket.js');
    return (host, port) => new TunnelSocket(() => tunnel.forwardOut(host, port));
  }

  /** The process's one SSH connection, shared by Docker, PostgreSQL and warm replicas; closed by close(). */
  sshTunnel(): Promise<SshTunnel> {
    this.tunnel ??= (async () => {
      const cfg = await this.config();
      const { openSshTunnel } = await import('../swarm/ssh-tunnel.js');
      const { username, host, port } = parseSshHost(cfg.host.value);
      const dotSsh = join(this.homeDir, '.ssh');
      return openSshTunnel(
        {
          host,
          port,
          username,
          identityFile: cfg.ssh.key.value,
          defaultIdentityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(dotSsh, f)),
          agentSocket: cfg.ssh.agentSocket,
          knownHostsFiles: cfg.ssh.knownHosts.value ? [cfg.ssh.knownHosts.value] : [join(dotSsh, 'known_hosts'), '/etc/ssh/ssh_known_hosts'],
          insecureIgnoreHostKey: cfg.ssh.insecureIgnoreHostKey,
        },
        this.log,
      );
    })();
    return this.tunnel;
  }

  async store(): Promise<Store> {
    if (!this.storeInstance) {
      const db = await this.db();
      const { createStore } = await import('../db/store.js');
      this.storeInstance = createStore(db);
    }
    return this.storeInstance;
  }

  /** Releases connections; main() calls it on every path or the process would hang on the pool. */
  async close(): Promise<void> {
    // The tunnel last: the pool and the Docker client end their channels first.
    const pending = [this.database, this.swarmClient, this.tunnel];
    this.database = undefined;
    this.swarmClient = undefined;
    this.tunnel = undefined;
    for (const p of pending) {
      if (!p) continue;
      const resource = await p.catch(() => undefined);
      await resource?.close().catch(() => {});
    }
  }
}

/** Getters: touching process.stdin costs ~2 ms of start-up, so only a command that reads it pays. */
function processStreams(): Streams {
  return {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
  };
}

/**
 * FAASCTL_DATABASE_URL_FILE names a file holding the URL (a Swarm secret: how the dispatcher
 * service gets it without the URL in its spec); FAASCTL_DATABASE_URL, when set, wins.
 */
function withSecretFiles(env: Env): Env {
  const file = env.FAASCTL_DATABASE_URL_FILE;
  if (!file || env.FAASCTL_DATABASE_URL) return env;
  try {
    return { ...env, FAASCTL_DATABASE_URL: readFileSync(file, 'utf8').trim() };
  } catch (err) {
    throw new UsageError(`cannot read FAASCTL_DATABASE_URL_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { code: 'bad_file' });
  }
}
