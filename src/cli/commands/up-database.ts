import { updateContext } from '../../config/contexts.js';
import { AuthError, UsageError } from '../../base/errors.js';
import type { Logger } from '../../base/ports.js';
import { databaseHost, DEFAULT_POSTGRES_IMAGE, validatePostgresName } from '../../core/platform/postgres-service.js';
import { ensureDatabase, type UpStep } from '../../core/platform/up.js';
import type { SwarmClient } from '../../swarm/client.js';
import { COMPONENT_LABEL } from '../../swarm/labels.js';
import type { DatabaseDialer } from '../../db/database.js';
import type { Context } from '../context.js';
import { importExternal } from '../../base/external.js';

/** The `up` flags about the database faasctl deploys when none is configured. */
export interface PostgresFlags {
  postgresImage?: string;
  postgresPort: string;
  postgresName: string;
}

export interface PostgresSettings {
  image: string;
  port: number;
  name: string;
}

/** Flag > FAASCTL_POSTGRES_IMAGE > the official image. */
export function postgresSettings(flags: PostgresFlags, env: Context['env']): PostgresSettings {
  const port = Number(flags.postgresPort);
  if (!/^\d+$/.test(flags.postgresPort) || port < 1 || port > 65535) {
    throw new UsageError(`invalid --postgres-port "${flags.postgresPort}"`, { hint: 'use a TCP port number from 1 to 65535' });
  }
  const image = flags.postgresImage ?? (env.FAASCTL_POSTGRES_IMAGE || DEFAULT_POSTGRES_IMAGE);
  return { image, port, name: validatePostgresName(flags.postgresName) };
}

/** The database step of `up`: the configured database, or PostgreSQL deployed on the cluster. */
export async function databaseStep(ctx: Context, swarm: SwarmClient, settings: PostgresSettings, progress: (t: string) => void): Promise<UpStep> {
  const cfg = await ctx.config();
  const contextName = cfg.contextName.value;
  const url = cfg.databaseUrl.value;
  // Checked before deploying: a URL that cannot be saved would strand the only copy of the password.
  if (!url) updateContext((await ctx.configFile()).data, contextName, (e) => e);
  if (url && cfg.databaseUrl.source === `context:${contextName}` && !cfg.databaseService.value) await adoptService(ctx, swarm, contextName, settings);
  const { randomBytes } = await importExternal<typeof import('node:crypto')>('node:crypto');
  return ensureDatabase(
    {
      swarm,
      clock: ctx.clock,
      log: ctx.log,
      progress,
      warn: (text) => ctx.io.err(`${ctx.io.c.yellow('warning:')} ${text}`),
      probe: probeDatabase(ctx.log, await ctx.databaseDialer()),
      randomPassword: () => randomBytes(32).toString('base64url'),
      // The service name too: commands wait for it after an engine restart (issue 17).
      saveUrl: async (newUrl) => ctx.saveConfig(updateContext((await ctx.configFile()).data, contextName, (e) => ({ ...e, database: newUrl, databaseService: settings.name }))),
    },
    { ...settings, host: databaseHost(cfg.host.value), contextName, configured: url ? { url, source: cfg.databaseUrl.source } : undefined },
  );
}

/** One real `SELECT 1` on a fresh pool; a refused login is an AuthError, which ends the wait. */
function probeDatabase(log: Logger, dial?: DatabaseDialer): (url: string) => Promise<void> {
  return async (url) => {
    const { connectDatabase } = await import('../../db/database.js');
    const db = await connectDatabase(url, log, dial);
    try {
      await db.query('SELECT 1');
    } catch (err) {
      // 28xxx: invalid authorization (mapPgError keeps pg's error as the cause).
      const code = ((err as Error).cause as { code?: string } | undefined)?.code;
      if (code?.startsWith('28')) throw new AuthError((err as Error).message, { cause: err });
      throw err;
    } finally {
      await db.close().catch(() => {});
    }
  };
}

/**
 * A context saved by an earlier faasctl has the URL of the PostgreSQL `up` deployed but not its
 * service: when the engine runs that service (faasctl's label, the URL's port), record it, so
 * commands wait for it after an engine restart like for a fresh deploy.
 */
async function adoptService(ctx: Context, swarm: SwarmClient, contextName: string, settings: PostgresSettings): Promise<void> {
  const cfg = await ctx.config();
  const service = await swarm.inspectService(settings.name).catch(() => undefined);
  const ports = service?.spec?.EndpointSpec?.Ports ?? [];
  const port = (() => {
    try {
      return Number(new URL(cfg.databaseUrl.value!).port || 5432);
    } catch {
      return undefined;
    }
  })();
  if (service?.spec?.Labels?.[COMPONENT_LABEL] !== 'postgres' || !ports.some((p) => p.PublishedPort === port)) return;
  ctx.log.debug(`up: the context's database is the PostgreSQL service ${settings.name}; recording it`);
  await ctx.saveConfig(updateContext((await ctx.configFile()).data, contextName, (e) => ({ ...e, databaseService: settings.name })));
}
