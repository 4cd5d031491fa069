import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

/**
 * Issue 17, "one error path" (observation 6): the same engine refusal gives the same exit code
 * and the same line through `fn run` (a plain container), `fn invoke` (a Swarm task) and a cold
 * bulk (a replica service), on the real engine. Each case names the exit code the README lists.
 */
const examples = new URL('../../examples/', import.meta.url).pathname;

/** "error: WHAT: LINE (request ID)" → LINE: what each path prefixes differs (a file, a function). */
function errorLine(r: CliResult): string {
  const line = r.stderr.split('\n').find((l) => l.startsWith('error: '));
  expect(line, r.stderr).toBeDefined();
  return line!.replace(/^error: (?:[^:]+: )?/, '').replace(/ \(request [0-9a-f-]+\)$/, '');
}

describe("one error path for the engine's refusals", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-paths-');
  const cli = (args: string[], input?: string, extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, input, timeoutMs: 180_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  cleansUpAfterEach(() => ({ db, env }));

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    ok(await runCli(['up'], { env, timeoutMs: 300_000 }));
    ok(await cli(['user', 'create', 'paths', '--password-stdin'], 'paths-password'));
    ok(await cli(['login', 'paths', '--password-stdin'], 'paths-password'));
  }, 300_000);

  it('--cpus beyond the node: fn run, fn invoke and a cold bulk exit 8 with the same line (was: fn run exit 1 "internal error")', async () => {
    // 256 is the most --cpus accepts: more than this machine's engine has.
    const code = file('greedy.py', 'def main(data):\n    return "ran"\n');
    const ran = await cli(['fn', 'run', code, '--cpus', '256']);
    ok(await cli(['fn', 'deploy', code, '--name', 'greedy', '--cpus', '256']));
    const invoked = await cli(['fn', 'invoke', 'greedy']);
    const bulk = await cli(['fn', 'invoke', 'greedy', '--bulk', '-'], '{}\n');

    for (const r of [ran, invoked, bulk]) {
      expect(r.code, r.stderr).toBe(8);
      expect(r.stderr).not.toMatch(/internal error|this is a bug|\n\s+at /);
    }
    expect(errorLine(ran)).toMatch(/^the function's CPU limit is more than the node that was to run it has \(\d+ CPUs; the engine allows 0\.01 to [\d.]+ per container\)$/);
    expect(errorLine(invoked)).toBe(errorLine(ran));
    expect(errorLine(bulk)).toBe(errorLine(ran));
    expect(ran.stderr).toMatch(/hint: lower the limit to at most [\d.]+/);
    // The rows end as the platform's failures, not the function's.
    const rows = await query<{ type: string; status: string }>(db.url, "SELECT type, status FROM requests WHERE function_name = 'greedy' AND type LIKE 'fn.invoke%' ORDER BY created_at");
    expect(rows.map((r) => r.status)).toEqual(['system_error', 'system_error']);
    ok(await cli(['fn', 'delete', 'greedy']));
  });

  it('an image missing on the node: fn run and fn invoke exit 8 with the same wording (was: fn run exit 3)', async () => {
    // fn invoke: this test's own installation tag of a dependency image, removed by hand (the
    // content tag keeps the image itself, so nothing another installation uses goes).
    const deployed = JSON.parse(ok(await cli(['fn', 'deploy', `${examples}wordfreq`, '--name', 'wf', '--json'])).stdout) as { image: string };
    expect(deployed.image).toMatch(/^faasctl\/python-deps:[0-9a-f]+-[0-9a-f]+$/);
    execFileSync('docker', ['image', 'rm', deployed.image], { stdio: 'ignore' });
    const invoked = await cli(['fn', 'invoke', 'wf', '--data-file', `${examples}wordfreq.input.json`]);
    // fn run: a registry that does not exist names a runtime image this engine does not have.
    const ran = await cli(['fn', 'run', file('plain.py', 'def main(data):\n    return 1\n')], undefined, { FAASCTL_REGISTRY: '127.0.0.1:1' });

    expect(invoked.code, invoked.stderr).toBe(8);
    expect(ran.code, ran.stderr).toBe(8);
    expect(errorLine(invoked)).toBe(`the image ${deployed.image} is not on the node that was to run it`);
    expect(errorLine(ran)).toMatch(/^the image 127\.0\.0\.1:1\/faasctl\/runtime-python:[0-9a-f]+ is not on the node that was to run it$/);
    for (const r of [invoked, ran]) expect(r.stderr).toMatch(/hint: run faasctl up/);
    ok(await cli(['fn', 'delete', 'wf']));
  });
});
