import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { applyMigrations } from '../../db/migrate.js';
import { DEFAULT_POSTGRES_IMAGE, DEFAULT_POSTGRES_NAME, DEFAULT_POSTGRES_PORT } from '../../core/platform/postgres-service.js';
import { ensureRuntimeImage, ensureSwarm, type UpStep } from '../../core/platform/up.js';
import { validateRegistry } from '../../core/platform/images.js';
import { updateContext } from '../../config/contexts.js';
import { runtimeDir, runtimeImageRef } from '../../runtime/python.js';
import type { Context } from '../context.js';
import { ensureDispatcher, removeDispatcher, setUserCap } from '../../core/platform/dispatcher-service.js';
import { faasctlImageFiles, faasctlImageRef } from '../../runtime/faasctl-image.js';
import { wholeNumber } from '../../base/numbers.js';
import { UsageError } from '../../base/errors.js';
import { retentionFromFlags, type RetentionFlags } from '../../core/requests/prune.js';
import { formatDuration } from '../../base/durations.js';
import { databaseStep, postgresSettings, type PostgresFlags } from './up-database.js';

interface UpOptions extends PostgresFlags, RetentionFlags {
  swarmInit?: boolean;
  advertiseAddr: string;
  baseImage?: string;
  registry?: string;
  /** --dispatcher / --no-dispatcher; undefined leaves it as it is. */
  dispatcher?: boolean;
  dispatcherReplicas?: string;
  userConcurrency?: string;
  /** The dispatcher's HTTP API (issue 25); `--no-api` sets it false. */
  apiPort?: string;
  api?: boolean;
  apiTlsCert?: string;
  apiTlsKey?: string;
  /** The default class's sandbox pool size (issue 23); undefined leaves it as it is. */
  pool?: string;
}

const DEFAULT_BASE_IMAGE = 'python:3.12-slim';

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
    .action(async (opts: UpOptions) => {
      const steps = await runUp(ctx, opts);
      if (ctx.io.options.json) return ctx.io.json({ steps });
      // -q: only what this run created or applied, one step a line.
      if (ctx.io.options.quiet) {
        for (const s of steps) if (s.outcome === 'created' || s.outcome === 'applied') ctx.io.out(s.step);
        return;
      }
      await ctx.io.table(
        ['step', 'outcome', 'detail'],
        steps.map((s) => [s.step, s.outcome, s.detail]),
      );
    });
}

async function runUp(ctx: Context, opts: UpOptions): Promise<UpStep[]> {
  const postgres = postgresSettings(opts, ctx.env);
  const registryFlag = opts.registry === undefined ? undefined : validateRegistry(opts.registry);
  const cfg = await ctx.config();
  const swarm = await ctx.swarm();
  const spinner = await ctx.io.spinner('checking the engine…');
  const progress = (t: string) => spinner.update(t);
  const deps = { swarm, log: ctx.log, progress, clock: ctx.clock };
  try {
    const steps = [await ensureSwarm(deps, { swarmInit: Boolean(opts.swarmInit), advertiseAddr: opts.advertiseAddr })];
    const baseImage = opts.baseImage ?? ctx.env.FAASCTL_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;
    const registry = registryFlag ?? cfg.registry.value;
    steps.push(...(await ensureRuntimeImage(deps, { image: await runtimeImageRef(registry), baseImage, contextDir: runtimeDir(), registry })));
    // Saved once the image is there: a context never names a registry that lacks it.
    if (registryFlag) await saveRegistry(ctx, registryFlag);
    steps.push(await databaseStep(ctx, swarm, postgres, progress));
    spinner.update('applying the database schema…');
    steps.push(await schemaStep(ctx));
    steps.push(await retentionStep(ctx, opts));
    steps.push(...(await dispatcherSteps(ctx, opts, { ...deps, store: await ctx.store() }, baseImage, registry)));
    if (opts.pool !== undefined) {
      spinner.update('starting the sandbox pool…');
      steps.push(await poolStep(ctx, wholeNumber(opts.pool, '--pool', 0, 1000)));
    }
    spinner.stop();
    return steps;
  } catch (err) {
    spinner.fail();
    throw err;
  }
}

/** The default class's pool at the size asked (see faasctl pool). */
async function poolStep(ctx: Context, size: number): Promise<UpStep> {
  const { resizePool } = await import('../../core/pool/pool-admin.js');
  const { functionDeps } = await import('../deps.js');
  const pools = await resizePool(await functionDeps(ctx), size);
  const detail = pools.map((p) => `${p.className}: ${p.size} containers, ${p.idle} waiting`).join('; ') || 'none';
  return { step: 'sandbox pool', outcome: size === 0 ? 'drained' : 'ready', detail };
}

/** The registry belongs to the cluster, so it is kept with the context's host and database. */
async function saveRegistry(ctx: Context, registry: string): Promise<void> {
  const cfg = await ctx.config();
  const file = await ctx.configFile();
  await ctx.saveConfig(updateContext(file.data, cfg.contextName.value, (e) => ({ ...e, registry })));
}

/** The request log's retention, stored in the database (gc and the dispatcher read it there). */
async function retentionStep(ctx: Context, flags: RetentionFlags): Promise<UpStep> {
  const store = await ctx.store();
  const current = await store.prune.retention();
  const wanted = retentionFromFlags(flags, current);
  const changed = JSON.stringify(wanted) !== JSON.stringify(current);
  if (changed) await store.prune.setRetention(wanted);
  const text = (ms: number | null) => (ms === null ? 'forever' : formatDuration(ms));
  const detail = `rows ${text(wanted.requestsMs)}, output ${wanted.outputMs === null ? 'as its row' : text(wanted.outputMs)}, rollups ${text(wanted.rollupsMs)}`;
  return { step: 'retention', outcome: changed ? 'changed' : 'exists', detail };
}

/** Applies the migrations the database has not recorded; `exists` says there were none. */
async function schemaStep(ctx: Context): Promise<UpStep> {
  const { version, applied } = await applyMigrations(await ctx.db());
  if (applied.length === 0) return { step: 'schema', outcome: 'exists', detail: `version ${version}` };
  return { step: 'schema', outcome: 'applied', detail: `version ${version} (${applied.join(', ')})` };
}

/** The dispatcher's service and the per-user cap, when asked; an installation keeps what it had otherwise. */
async function dispatcherSteps(ctx: Context, opts: UpOptions, deps: Parameters<typeof ensureDispatcher>[0], baseImage: string, registry: string | undefined): Promise<UpStep[]> {
  const steps: UpStep[] = [];
  if (opts.userConcurrency !== undefined) steps.push(await setUserCap(deps.store, wholeNumber(opts.userConcurrency, '--user-concurrency', 0, 10_000)));
  if (opts.dispatcher === false) return [...steps, await removeDispatcher(deps)];
  if (!opts.dispatcher) return steps;
  const cfg = await ctx.config();
  const replicas = opts.dispatcherReplicas === undefined ? 1 : wholeNumber(opts.dispatcherReplicas, '--dispatcher-replicas', 1, 3);
  const databaseUrl = cfg.databaseUrl.value;
  if (!databaseUrl) throw new UsageError('the dispatcher needs the database URL, and none is configured', { hint: 'run faasctl up without --dispatcher first, or pass --db URL' });
  const image = await faasctlImageRef(registry);
  const api = await apiOption(opts);
  return [...steps, ...(await ensureDispatcher(deps, { image, files: () => faasctlImageFiles(baseImage), databaseUrl, replicas, api, ...(registry ? { registry } : {}) }))];
}

async function apiOption(opts: UpOptions): Promise<{ port: number; tls?: { cert: string; key: string } } | false | undefined> {
  if (opts.api === false) return false;
  if (opts.apiPort === undefined) {
    if (opts.apiTlsCert || opts.apiTlsKey) throw new UsageError('--api-tls-cert and --api-tls-key go with --api-port');
    return undefined;
  }
  const port = wholeNumber(opts.apiPort, '--api-port', 1, 65535);
  if (Boolean(opts.apiTlsCert) !== Boolean(opts.apiTlsKey)) throw new UsageError('TLS needs both --api-tls-cert and --api-tls-key');
  if (!opts.apiTlsCert || !opts.apiTlsKey) return { port };
  const read = (f: string) =>
    readFile(f, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${f}: ${err.code ?? err.message}`, { code: 'bad_file' });
    });
  return { port, tls: { cert: await read(opts.apiTlsCert), key: await read(opts.apiTlsKey) } };
}
