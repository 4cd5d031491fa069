import { doctorExitCode, runDoctor, type Check } from '../../core/platform/doctor.js';
import { SCHEMA_VERSION, schemaVersion } from '../../db/migrate.js';
import { runtimeImageRef } from '../../runtime/python.js';
import type { Context } from '../context.js';
import { AlreadyReported, EXIT } from '../../base/errors.js';

/** `faasctl doctor`: every check, as a table, `--json` or (with -q) the names of those not passing. */
export async function runDoctorCommand(ctx: Context): Promise<void> {
  const cfg = await ctx.config();
  const spinner = await ctx.io.spinner('checking…');
  const checks = await runDoctor({
    swarm: () => ctx.swarm(),
    db: () => ctx.db(),
    hasDatabase: Boolean(cfg.databaseUrl.value),
    runtimeImage: await runtimeImageRef(cfg.registry.value),
    registry: cfg.registry.value,
    expectedSchema: SCHEMA_VERSION,
    schemaVersion,
  });
  spinner.stop();
  const exitCode = doctorExitCode(checks);
  if (ctx.io.options.json) ctx.io.json({ ok: exitCode === EXIT.ok, context: cfg.contextName.value, checks });
  // -q: only the checks that did not pass (none: no output), for scripts that want the reason.
  else if (ctx.io.options.quiet) for (const ch of checks.filter((x) => x.status === 'fail' || x.status === 'warn')) ctx.io.out(ch.name);
  else await printChecks(ctx, checks);
  if (exitCode !== EXIT.ok) throw new AlreadyReported(exitCode);
}

async function printChecks(ctx: Context, checks: Check[]): Promise<void> {
  const { c } = ctx.io;
  const mark = { ok: c.green('ok'), warn: c.yellow('warn'), fail: c.red('FAIL'), skip: c.dim('skip') };
  await ctx.io.table(
    ['check', 'status', 'detail'],
    checks.map((ch) => [ch.name, mark[ch.status], ch.fix && ch.status !== 'ok' ? `${ch.detail}\n  ${c.dim('fix:')} ${ch.fix}` : ch.detail]),
  );
}
