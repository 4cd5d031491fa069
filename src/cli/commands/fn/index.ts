import { type Command, Option } from 'commander';
import type { Context } from '../../context.js';
import type { WebhookFlags, BulkDeployOptions, BulkUpdateOptions, FnDeleteOptions, FnNewOptions, FnRunOptions, InvokeOptions, LimitOptions } from './options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function limitOptions(cmd: Command): Command {
  return cmd
    .option('--entry <name>', 'the entry function (default main, else madhat_func, lambda_handler, handler or handle)')
    .option('--flavor <flavor>', 'how the entry is called: main (main(args)), lambda (handler(event, context)), openfaas (handle(req)) or madhat (default: from its signature)')
    .option('--memory <size>', 'memory limit, e.g. 128m, 1g (default 256m)')
    .option('--cpus <n>', 'CPU limit, e.g. 0.5 (default 1)')
    .option('--timeout <duration>', 'run-time limit, e.g. 10s, 2m (default 30s)')
    .addOption(new Option('--env <KEY=VALUE>', 'environment variable for the function (repeatable)').argParser(collect))
    .addOption(new Option('--env-file <file>', "KEY=VALUE lines (docker's env-file format; # comments) read before --env, which wins (repeatable)").argParser(collect))
    .addOption(new Option('--secret <name>', 'mount your secret NAME as /run/secrets/NAME (repeatable; on update -NAME removes it)').argParser(collect))
    .option('--requirements <file>', "pip requirements to install into the function's image (default: DIR/requirements.txt)")
    .option('--pip-index-url <url>', "pip's package index for the requirements (default: pip's own)")
    .addOption(new Option('--apt <package>', "Debian package to install into the function's image, e.g. python3-six (repeatable; besides a DIR's apt.txt)").argParser(collect));
}

/** Deploy and update import the module at deploy; `fn run` imports it anyway, at once. */
function importCheckOption(cmd: Command): Command {
  return cmd.option('--no-import-check', 'do not import the module at deploy (for modules with side effects at import, or that need secrets or the network then)');
}

/** How the dispatcher runs the function (also `fn policy`). */
function policyOptions(cmd: Command): Command {
  return cmd
    .option('--retries <n>', 'async attempts after the first that failed curably (platform fault, timeout; default 2)')
    .option('--retry-on-error', 'also retry when the function itself raised')
    .option('--no-retry-on-error', 'retry only platform faults and timeouts (the default)')
    .option('--max-event-age <duration>', 'an async request older than this is not tried again (default 6h)')
    .option('--max-concurrency <n>', 'invocations of the function at once, on every path; excess waits in line (0: no limit)');
}

/** --env-file's pairs first, then --env's: a later pair wins, so a flag overrides its file. */
async function withEnvFiles<T extends LimitOptions>(opts: T): Promise<T> {
  if (!opts.envFile?.length) return opts;
  const { readEnvFile } = await import('../../env-file.js');
  const fromFiles: string[] = [];
  for (const file of opts.envFile) fromFiles.push(...(await readEnvFile(file)));
  return { ...opts, env: [...fromFiles, ...(opts.env ?? [])] };
}

/** Where the function's tasks may run; Swarm's own syntax, as docker service create takes it. */
function placementOptions(cmd: Command, update = false): Command {
  cmd
    .addOption(new Option('--constraint <expr>', 'run only on matching nodes, e.g. node.role==worker, node.labels.gpu==yes (repeatable)').argParser(collect))
    .addOption(new Option('--placement-pref <pref>', 'spread tasks evenly over a node attribute, e.g. spread=node.labels.zone (repeatable)').argParser(collect));
  return update ? cmd.option('--no-placement', 'drop the current constraints and preferences') : cmd;
}

export function registerFunction(program: Command, ctx: Context): void {
  const fn = program.command('fn').alias('function').description('deploy, invoke and manage your Python functions');
  const run = () => import('./run.js');
  const invoke = () => import('./invoke.js');
  const bulk = () => import('./bulk.js');

  policyOptions(
    placementOptions(
      importCheckOption(limitOptions(fn.command('deploy <path>'))).description(
        'syntax-check a Python file (or a directory with its requirements), import it in its sandbox and store it as a new function (version 1)',
      ),
    ),
  )
    .option('--name <name>', 'function name (default: the file name without .py, or the directory name)')
    .option('--isolation <how>', 'how cold invocations run: auto (a sandbox-pool container when one fits, else a service; the default), pool, or service (always one Swarm service)')
    .option('--warm <n>', 'keep N warm replicas running (see fn scale)')
    .option('--workers <n>', 'with --warm: invocations one replica runs at once (default 2)')
    .option('--bulk <n>', 'deploy the file as N functions named PREFIX1..PREFIXN (checked once)')
    .option('--prefix <prefix>', 'name prefix for --bulk')
    .addHelpText(
      'after',
      '\nThe file defines main(data), returning any JSON value, an AWS Lambda handler(event, context),\nan OpenFaaS handle(req), or the 2016 format madhat_func(input_data, output_data). A syntax error is reported with file:line:col and stores nothing.\nThe module is then imported in its sandbox (10 s at most): a missing module, an import that raises, hangs\nor crashes is refused (exit 2); --no-import-check skips that.\nA directory holds NAME.py, handler.py or main.py, and optionally requirements.txt (local packages\nwelcome: ./mylib, ./wheels/x.whl, -f ./wheels), installed into an image shared by equal requirements.\n\nExamples:\n  faasctl fn deploy examples/sum.py\n  faasctl fn deploy job.py --name nightly --memory 512m --timeout 5m --env MODE=full\n  faasctl fn deploy ./myfn --pip-index-url http://10.0.0.5:3141/simple',
    )
    .addHelpText('after', '  faasctl fn deploy examples/sum.py --bulk 20 --prefix load')
    .action(async (file: string, given: BulkDeployOptions) => {
      const opts = await withEnvFiles(given);
      return opts.bulk !== undefined || opts.prefix !== undefined ? (await bulk()).runBulkDeploy(ctx, file, opts) : (await run()).runDeploy(ctx, file, opts);
    });

  policyOptions(placementOptions(importCheckOption(limitOptions(fn.command('update <name> [path]'))), true))
    .option('--isolation <how>', 'how cold invocations run: auto, pool or service (see fn deploy)')
    .description('make a new version: new code and/or new limits, entry, env or requirements')
    .addHelpText(
      'after',
      "\nFlags not given keep the current version's values; --env KEY (without =) removes a variable.\nA FILE without --requirements keeps the current requirements; a directory brings its own (or none).\n\nExamples:\n  faasctl fn update sum examples/sum.py\n  faasctl fn update sum --memory 512m",
    )
    .option('--prefix <prefix>', 'bulk: update every function whose name starts with this; the argument is then the FILE')
    .option('--webhook-secret-stdin', 'accept signed webhooks (POST /v1/hooks/USER/NAME) with the HMAC secret read from stdin; never printed back')
    .option('--no-webhook', 'stop accepting webhooks for it')
    .addHelpText('after', '  faasctl fn update examples/sum.py --prefix load\n  openssl rand -hex 32 | tee hook.secret | faasctl fn update sum --webhook-secret-stdin')
    .action(async (name: string, file: string | undefined, given: BulkUpdateOptions & WebhookFlags, cmd: Command) => {
      const webhook = given.webhookSecretStdin || given.webhook === false;
      const others = Object.keys(given).filter((k) => k !== 'webhook' && k !== 'webhookSecretStdin' && cmd.getOptionValueSource(k) === 'cli');
      // Only the webhook asked for: no new version is made.
      if (webhook && file === undefined && !others.length) return (await import('./webhook.js')).runWebhook(ctx, name, given);
      const opts = await withEnvFiles(given);
      if (opts.prefix !== undefined) return (await bulk()).runBulkUpdate(ctx, name, file, opts);
      await (await run()).runUpdate(ctx, name, file, opts);
      if (webhook) await (await import('./webhook.js')).runWebhook(ctx, name, given, { quietJson: true });
    });

  fn.command('invoke <name>')
    .description('run a function on JSON input; its prints stream to stderr, the result JSON goes to stdout')
    .option('--data <json>', 'the input document')
    .option('--data-file <file>', 'read the input from a file ("-" for stdin)')
    .option('--async', 'print the request id once the job exists and return; see faasctl request wait')
    .option('--cold', 'run as a job even when the function has warm replicas')
    .option('--isolation <how>', "pool: a pre-started sandbox-pool container; service: one Swarm service for this call (default: the function's, see fn deploy --isolation)")
    .option('--bulk <file>', 'invoke once per line of a JSON Lines file ("-" for stdin); NDJSON answers in input order')
    .option('--concurrency <n>', 'with --bulk: inputs in flight at once (default: every worker of every replica)')
    .option('--resume [run]', 'with --bulk FILE: run only the lines without an answer in that run (default: the newest run of this function over FILE); prints every answer')
    .option('--idempotency-key <key>', 'a repeat with this key within 24 h answers with the first request instead of running again')
    .option('--no-queue', 'fail at once (exit 9) when a concurrency limit is reached, instead of waiting for a slot')
    .addHelpText(
      'after',
      '\nWithout --data or --data-file, input is read from stdin when it is not a terminal.\nA warm function (fn scale) answers from a running replica; otherwise a job runs it.\nExit codes: 0 success, 6 the function failed, 124 timeout, 8 the cluster could not run it, 9 a concurrency limit with --no-queue.\nWith --bulk: 0 when every input succeeded, else 6 (or 8 when the cluster failed any).\n\nExamples:\n  faasctl fn invoke sum --data \'{"numbers": [1, 2, 3]}\'\n  faasctl fn invoke sum --data-file examples/sum.input.json --json\n  faasctl fn invoke sum --bulk inputs.jsonl --concurrency 8 > answers.ndjson\n  faasctl fn invoke sum --bulk inputs.jsonl --resume > answers.ndjson   # after a killed run\n  id=$(faasctl fn invoke sum --data-file big.json --async) && faasctl request wait "$id"',
    )
    .action(async (name: string, opts: InvokeOptions) => (opts.bulk !== undefined ? (await import('./invoke-bulk.js')).runBulkInvoke(ctx, name, opts) : (await invoke()).runInvoke(ctx, name, opts)));

  policyOptions(fn.command('policy <name>'))
    .description('show or set how the dispatcher runs the function: retries, maximum event age, concurrency limit')
    .addHelpText('after', '\nExamples:\n  faasctl fn policy nightly --retries 5 --max-event-age 1h\n  faasctl fn policy resize --max-concurrency 2\n  faasctl fn policy nightly --json')
    .action(async (name: string, opts: import('./options.js').PolicyOptions) => (await import('./policy.js')).runPolicy(ctx, name, opts));

  const dev = () => import('./dev.js');
  fn.command('new <name>')
    .description('write a commented skeleton NAME.py and a sample input NAME.input.json')
    .option('--dir <dir>', 'where to write them (default: the current directory)')
    .addHelpText('after', '\nExisting files are never overwritten.\n\nExample:\n  faasctl fn new hello && faasctl fn run hello.py --data-file hello.input.json')
    .action(async (name: string, opts: FnNewOptions) => (await dev()).runNew(ctx, name, opts));

  limitOptions(fn.command('run <path>').description('run a Python file (or a directory with requirements) once on the engine, sandboxed like fn invoke, without the database or a login'))
    .option('--data <json>', 'the input document')
    .option('--data-file <file>', 'read the input from a file ("-" for stdin)')
    .addHelpText(
      'after',
      '\nThe same syntax check, sandbox, output and exit codes as fn deploy + fn invoke (0, 2, 6, 124, 8);\nnothing is stored. Without --data or --data-file, input is read from stdin when it is not a terminal.\n\nExamples:\n  faasctl fn run examples/sum.py --data \'{"numbers": [1, 2, 3]}\'\n  faasctl fn run job.py --data-file job.input.json --timeout 5s --env MODE=test --json',
    )
    .action(async (file: string, opts: FnRunOptions) => (await dev()).runLocal(ctx, file, await withEnvFiles(opts)));

  fn.command('scale <name> <replicas>')
    .description('keep N warm replicas of a function running (0 = cold again); a new version rolls them')
    .option('--workers <n>', 'invocations one replica runs at once (default 2, or the current setting)')
    .addHelpText(
      'after',
      '\nA warm invocation is an HTTP request to a replica (token-protected, host-mode port), not a new\nSwarm service. Limits apply per worker: a replica with 2 workers gets twice the memory and CPUs.\n\nExamples:\n  faasctl fn scale sum 2\n  faasctl fn scale sum 4 --workers 4\n  faasctl fn scale sum 0',
    )
    .action(async (name: string, replicas: string, opts: { workers?: string }) => (await import('./scale.js')).runScale(ctx, name, replicas, opts));

  fn.command('list')
    .alias('ls')
    .description('your functions')
    .addHelpText('after', '\nExamples:\n  faasctl fn list\n  faasctl fn list --json')
    .action(async () => (await run()).runList(ctx));

  fn.command('show <name>')
    .description('a function: code, current version, limits and its last invocations')
    .option('--no-code', 'leave out the code')
    .addHelpText('after', '\nExamples:\n  faasctl fn show sum\n  faasctl fn show sum --no-code --json')
    .action(async (name: string, opts: { code: boolean }) => (await run()).runShow(ctx, name, opts));

  fn.command('versions <name>')
    .description('every version of a function')
    .addHelpText('after', '\nExample:\n  faasctl fn versions sum')
    .action(async (name: string) => (await run()).runVersions(ctx, name));

  fn.command('rollback <name>')
    .description('make an earlier version current again (default: the one before)')
    .option('--to <version>', 'the version to make current')
    .addHelpText('after', '\nExamples:\n  faasctl fn rollback sum\n  faasctl fn rollback sum --to 2')
    .action(async (name: string, opts: { to?: string }) => (await run()).runRollback(ctx, name, opts));

  fn.command('delete [name]')
    .alias('rm')
    .description('delete a function, all its versions and every object of it on the engine (or every function whose name starts with --prefix)')
    .option('--prefix <prefix>', 'bulk: delete the functions whose names start with this')
    .option('--force', 'stop its running invocations (their rows say so) instead of refusing')
    .option('-y, --yes', 'bulk: do not ask for confirmation')
    .addHelpText(
      'after',
      '\nAn --async invocation that ended unread is recorded first. While one still runs, the delete\nrefuses (exit 3) and changes nothing; --force stops it. Code configs another version uses stay.\n\nExamples:\n  faasctl fn delete sum\n  faasctl fn delete sum --force\n  faasctl fn delete --prefix load --yes',
    )
    .action(async (name: string | undefined, opts: FnDeleteOptions) =>
      name === undefined || opts.prefix !== undefined ? (await bulk()).runBulkDelete(ctx, name, opts) : (await run()).runDelete(ctx, name, opts),
    );
}
