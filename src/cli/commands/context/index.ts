import type { Command } from 'commander';
import { addContext, listContexts, removeContext, useContext, validateDatabaseUrl, validateHostUrl } from '../../../config/contexts.js';
import { redactUrl } from '../../../config/resolve.js';
import type { ContextEntry } from '../../../config/types.js';
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
      }));
      if (ctx.io.options.json) return ctx.io.json(views);
      if (ctx.io.options.quiet) {
        for (const v of views) ctx.io.out(v.name);
        return;
      }
      await ctx.io.table(
        ['name', 'host', 'database', 'user', 'description'],
        views.map((v) => [v.current ? `${v.name} *` : v.name, v.host, v.database ?? '-', v.user ?? '-', v.description ?? '']),
      );
    });

  group
    .command('add <name>')
    .description('add a context')
    .option('--tls-ca <file>', 'CA certificate for a tcp:// host')
    .option('--tls-cert <file>', 'client certificate for a tcp:// host')
    .option('--tls-key <file>', 'client key for a tcp:// host')
    .option('--ssh-known-hosts <file>', 'known_hosts file for an ssh:// host (default ~/.ssh/known_hosts)')
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
      const entry: ContextEntry = {
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
      };
      if (ctx.io.options.json) return ctx.io.json({ configFile: path, ...rows });
      await ctx.io.table(
        ['setting', 'value', 'source'],
        Object.entries(rows).map(([k, r]) => [k, r.value ?? '-', r.source]),
      );
      ctx.io.info(ctx.io.c.dim(`config file: ${path}`));
    });
}
