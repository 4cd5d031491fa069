import type { Command } from 'commander';
import { DEFAULT_BASE_IMAGE, DEFAULT_POSTGRES_IMAGE, DEFAULT_POSTGRES_NAME, DEFAULT_POSTGRES_PORT } from '../../core/platform/defaults.js';
import type { Context } from '../context.js';
import type { UpOptions } from './up-run.js';

export function registerUp(program: Command, ctx: Context): void {
  program
    .command('up')
    .description('set up everything faasctl needs; safe to run again (changes only what is missing)')
    .option('--swarm-init', 'put the engine in Swarm mode if it is not')
    .option('--advertise-addr <addr>', 'address to advertise with --swarm-init', '127.0.0.1')
    .option('--base-image <image>', `Python base image for the runtime (env FAASCTL_BASE_IMAGE; default ${DEFAULT_BASE_IMAGE})`)
    .option('--registry <host:port>', 'registry every node pulls from (multi-node Swarm): faasctl pushes its images there and saves it in the context')
    .option('--postgres-image <image>', `PostgreSQL image, when no database is configured and faasctl deploys one (env FAASCTL_POSTGRES_IMAGE; default ${DEFAULT_POSTGRES_IMAGE})`)
    .option('--postgres-port <port>', 'port the deployed PostgreSQL publishes on the manager node (host mode)', String(DEFAULT_POSTGRES_PORT))
    .option('--retention <duration>', 'keep request rows this long (e.g. 90d), or forever (the default); gc prunes older ones in batches')
    .option('--output-retention <duration>', "clear invocations' output text sooner than their rows (e.g. 14d)")
    .option('--rollup-retention <duration>', "keep the statistics rollups this long (default: 400d, or the rows' retention if longer)")
    .option('--postgres-name <name>', 'service name of the deployed PostgreSQL; its secret and volume are NAME-password and NAME-data', DEFAULT_POSTGRES_NAME)
    .option('--dispatcher', 'run the dispatcher as a Swarm service: queued async work, retries, dead letters (see faasctl dispatcher)')
    .option('--no-dispatcher', 'remove the dispatcher: async invocations run as jobs of the invoking CLI')
    .option('--dispatcher-replicas <n>', 'with --dispatcher: replicas (one leads, the others wait as standbys; default 1)')
    .option('--api-port <port>', 'with --dispatcher: serve the HTTP API on this port of the manager (README "The HTTP API")')
    .option('--api-tls-cert <file>', 'with --api-port: TLS certificate (PEM), kept as a Swarm secret; without it the API is plain HTTP on 127.0.0.1 only')
    .option('--api-tls-key <file>', 'with --api-port: TLS private key (PEM), kept as a Swarm secret')
    .option('--no-api', 'with --dispatcher: stop serving the HTTP API')
    .option('--pool <n>', 'keep N pre-started sandbox containers of the default class (256m, 1 CPU) for cold invocations (0 drains it; see faasctl pool)')
    .option('--user-concurrency <n>', 'invocations one user may run at once, on every path (0: no cap)')
    .addHelpText(
      'after',
      '\nWithout --db (or a database in the context), up deploys PostgreSQL as a Swarm service pinned to\nthis manager node, with a generated password, and saves its URL in the current context.\n\nExamples:\n  faasctl up --swarm-init\n  faasctl up --postgres-port 15432\n  faasctl up --registry 10.0.0.5:5000',
    )
    .action(async (opts: UpOptions) => (await import('./up-run.js')).runUpCommand(ctx, opts));
}
