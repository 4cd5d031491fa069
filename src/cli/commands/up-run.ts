import { readFile } from 'node:fs/promises';
import { applyMigrations } from '../../db/migrate.js';
import { DEFAULT_BASE_IMAGE } from '../../core/platform/defaults.js';
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

export interface UpOptions extends PostgresFlags, RetentionFlags {
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

/** `faasctl up`: the steps, as a table, `--json` or (with -q) the steps that changed something. */
export async function runUpCommand(ctx: Context, opts: UpOptions): Promise<void> {
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
    spinner.update('checking the sandbox pools…');
    steps.push(...(await poolSteps(ctx, opts.pool === undefined ? undefined : wholeNumber(opts.pool, '--pool', 0, 1000))));
    spinner.stop();
    return steps;
  } catch (err) {
    spinner.fail();
    throw err;
  }
}

/**
 * The default class's pool at the size asked (see faasctl pool), after every pool whose
 * containers run an older runtime image is made again with this one (an upgrade's `up`).
 */
async function poolSteps(ctx: Context, size: number | undefined): Promise<UpStep[]> {
  const { refreshPools, resizePool } = await import('../../core/pool/pool-admin.js');
  const { functionDeps } = await import('../deps.js');
  const deps = await functionDeps(ctx);
  const steps: UpStep[] = [];
  const refreshed = await refreshPools(deps);
  if (refreshed.length) steps.push({ step: 'sandbox pool', outcome: 'updated', detail: `${refreshed.join(', ')}: made again with ${await deps.runtimeImage()}` });
  if (size === undefined) return steps;
  const pools = await resizePool(deps, size);
  const detail = pools.map((p) => `${p.className}: ${p.size} containers, ${p.idle} waiting`).join('; ') || 'none';
  return [...steps, { step: 'sandbox pool', outcome: size === 0 ? 'drained' : 'ready', detail }];
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
