import type { Command } from 'commander';
import { addContext, listContexts, removeContext, useContext, validateDatabaseUrl, validateHostUrl } from '../../../config/contexts.js';
import { redactUrl } from '../../../config/resolve.js';
import { resolve } from 'node:path';
import type { ApiAccess, ContextEntry } from '../../../config/types.js';
import { UsageError } from '../../../base/errors.js';
import type { Context } from '../../context.js';

interface AddOptions {
  host?: string;
  db?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  sshKey?: string;
  sshKnownHosts?: string;
  dbViaSsh?: boolean;
  description?: string;
  use?: boolean;
  force?: boolean;
  api?: string;
  tokenStdin?: boolean;
  ca?: string;
}

export function registerContext(program: Command, ctx: Context): void {
  const group = program.command('context').description('named connections to a Swarm manager and a database, like docker contexts');

  group
    .command('ls')
    .alias('list')
    .description('list contexts; * marks the current one')
    .action(async () => {
      const { data } = await ctx.configFile();
      const views = listContexts(data).map((v) => ({
        name: v.name,
        current: v.current,
        host: v.entry.host,
        database: redactUrl(v.entry.database),
        description: v.entry.description,
        user: v.entry.session?.userName,
        api: v.entry.api?.url,
      }));
      if (ctx.io.options.json) return ctx.io.json(views);
      if (ctx.io.options.quiet) {
        for (const v of views) ctx.io.out(v.name);
        return;
      }
      await ctx.io.table(
        ['name', 'host', 'database', 'user', 'description'],
        views.map((v) => [v.current ? `${v.name} *` : v.name, v.host ?? (v.api ? `api ${v.api}` : undefined), v.database ?? '-', v.user ?? '-', v.description ?? '']),
      );
    });

  group
    .command('add <name>')
    .description('add a context')
    .option('--tls-ca <file>', 'CA certificate for a tcp:// host')
    .option('--tls-cert <file>', 'client certificate for a tcp:// host')
    .option('--tls-key <file>', 'client key for a tcp:// host')
    .option('--ssh-known-hosts <file>', 'known_hosts file for an ssh:// host (default ~/.ssh/known_hosts)')
    .option('--api <url>', "the dispatcher's HTTP API (https://HOST:PORT): with --token-stdin, a token-only context")
    .option('--token-stdin', 'read the invoke token from stdin (never an argument: arguments show in ps and history)')
    .option('--ca <file>', "CA certificate that signed the API's certificate")
    .option('--description <text>', 'a note shown by context ls')
    .option('--use', 'make it the current context')
    .option('--force', 'replace a context of the same name')
    .addHelpText(
      'after',
      '\nThe global --host (Docker host: unix://, tcp://HOST:2376, ssh://USER@HOST) and --db\n(postgres://USER:PASSWORD@HOST:PORT/DB) give the context its connections.\n\nThe global --ssh-key FILE and --db-via-ssh (the --db URL is dialled from the manager through\nthe SSH connection, e.g. postgres://faas:pw@127.0.0.1:5432/faas) are stored too.\n\nExamples:\n  faasctl context add lab --host ssh://root@10.0.0.5 --ssh-key ~/.ssh/lab --db postgres://faas:pw@127.0.0.1:5432/faas --db-via-ssh\n  faasctl context add prod --host tcp://10.0.0.5:2376 --tls-ca ca.pem --tls-cert cert.pem --tls-key key.pem --db postgres://faas:pw@10.0.0.5/faas --use',
    )
    .action(async (name: string, _opts: AddOptions, cmd: Command) => {
      // --host and --db are global options, so they arrive with the globals.
      const opts = cmd.optsWithGlobals<AddOptions>();
      const api = opts.api || opts.tokenStdin || opts.ca ? await apiAccess(ctx, opts) : undefined;
      const entry: ContextEntry = {
        ...(api ? { api } : {}),
        host: opts.host ? validateHostUrl(opts.host) : undefined,
        database: opts.db ? validateDatabaseUrl(opts.db) : undefined,
        tls: opts.tlsCa || opts.tlsCert || opts.tlsKey ? { ca: opts.tlsCa, cert: opts.tlsCert, key: opts.tlsKey } : undefined,
        ssh: opts.sshKey || opts.sshKnownHosts ? { key: opts.sshKey, knownHosts: opts.sshKnownHosts } : undefined,
        databaseViaSsh: opts.dbViaSsh || undefined,
        description: opts.description,
      };
      if ((entry.ssh || entry.databaseViaSsh) && !entry.host?.startsWith('ssh://')) {
        throw new UsageError('--ssh-key, --ssh-known-hosts and --db-via-ssh need an ssh:// --host', { hint: 'e.g. faasctl context add NAME --host ssh://USER@HOST --ssh-key FILE' });
      }
      const { data } = await ctx.configFile();
      let next = addContext(data, name, entry, { force: opts.force });
      if (opts.use) next = useContext(next, name);
      await ctx.saveConfig(next);
      if (ctx.io.options.json) return ctx.io.json({ name, current: Boolean(opts.use) });
      if (ctx.io.options.quiet) return ctx.io.out(name);
      ctx.io.info(`context "${name}" added${opts.use ? ' and in use' : ''}`);
    });

  group
    .command('use <name>')
    .description('make a context the current one')
    .action(async (name: string) => {
      const { data } = await ctx.configFile();
      await ctx.saveConfig(useContext(data, name));
      if (ctx.io.options.json) return ctx.io.json({ name, current: true });
      ctx.io.info(`now using context "${name}"`);
    });

  group
    .command('rm <name>')
    .alias('remove')
    .description('remove a context')
    .action(async (name: string) => {
      const { data } = await ctx.configFile();
      await ctx.saveConfig(removeContext(data, name));
      if (ctx.io.options.json) return ctx.io.json({ name, removed: true });
      ctx.io.info(`context "${name}" removed`);
    });

  group
    .command('show')
    .description('the resolved connection settings and where each came from')
    .action(async () => {
      const cfg = await ctx.config();
      const { path } = await ctx.configFile();
      const rows = {
        context: cfg.contextName,
        host: cfg.host,
        tls: { value: cfg.tls.value ? [cfg.tls.value.ca, cfg.tls.value.cert, cfg.tls.value.key].join(', ') : undefined, source: cfg.tls.source },
        database: { value: redactUrl(cfg.databaseUrl.value), source: cfg.databaseUrl.source },
        'database via ssh': { value: cfg.databaseViaSsh.value ? 'yes' : undefined, source: cfg.databaseViaSsh.source },
        'ssh key': cfg.ssh.key,
        'ssh known_hosts': cfg.ssh.knownHosts,
        user: { value: cfg.context?.session?.userName, source: cfg.context?.session ? `context:${cfg.contextName.value}` : 'default' },
        // The token itself is never shown: only that there is one, and its public prefix.
        api: {
          value: cfg.context?.api ? `${cfg.context.api.url} (token ${cfg.context.api.token.split('_').slice(0, 2).join('_')}…${cfg.context.api.ca ? `, CA ${cfg.context.api.ca}` : ''})` : undefined,
          source: cfg.context?.api ? `context:${cfg.contextName.value}` : 'default',
        },
      };
      if (ctx.io.options.json) return ctx.io.json({ configFile: path, ...rows });
      await ctx.io.table(
        ['setting', 'value', 'source'],
        Object.entries(rows).map(([k, r]) => [k, r.value ?? '-', r.source]),
      );
      ctx.io.info(ctx.io.c.dim(`config file: ${path}`));
    });
}

/** --api URL --token-stdin [--ca FILE]: checked here, so a typo fails now rather than at the first call. */
async function apiAccess(ctx: Context, opts: AddOptions): Promise<ApiAccess> {
  if (!opts.api || !opts.tokenStdin)
    throw new UsageError('a token context needs both --api URL and --token-stdin', { hint: 'faasctl token create --fn NAME -q | faasctl context add ci --api https://HOST:PORT --token-stdin' });
  let url: URL;
  try {
    url = new URL(opts.api);
  } catch {
    throw new UsageError(`--api "${opts.api}" is not a URL`, { hint: 'e.g. https://10.0.0.5:8443' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--api must be https:// (or http:// on a trusted host), not ${url.protocol}`);
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.streams.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const token = Buffer.concat(chunks).toString('utf8').trim();
  if (!/^fct_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/.test(token)) throw new UsageError('stdin held no faasctl token (fct_…)', { code: 'bad_token', hint: 'faasctl token create --fn NAME -q prints one' });
  return { url: url.origin, token, ...(opts.ca ? { ca: resolve(opts.ca) } : {}) };
}
