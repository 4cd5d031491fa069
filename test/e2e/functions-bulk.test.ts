import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { query, cleansUpAfterEach } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/**
 * The 2016 client's bulk operations on functions, through the built binary on the real
 * Swarm and PostgreSQL: one file deployed under many names (checked once), updated and
 * deleted by prefix. After every test nothing of this file's user is left on the engine.
 */
describe('bulk function operations through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  let userId: string;
  const { file } = scratchDir('faasctl-fn-bulk-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input });
  const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => query<T>(db.url, sql, params);
  const names = async () => JSON.parse((await cli(['--json', 'fn', 'list'])).stdout).map((f: { name: string }) => f.name);
  /** A command, and how many check containers of this user the engine created while it ran (from its event log). */
  const counted = async (args: string[]) => {
    const started = Date.now();
    const result = await cli(args);
    const ended = Date.now();
    await new Promise((r) => setTimeout(r, 1100)); // `until` must have passed for the stream to end
    const filters = { type: ['container'], event: ['create'], label: ['io.faasctl.component=check', `io.faasctl.user=${userId}`] };
    const stream = await docker.getEvents({ since: Math.floor(started / 1000), until: Math.ceil(ended / 1000), filters: JSON.stringify(filters) } as object);
    let text = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
    // The API filters by whole seconds: keep only what happened while this command ran.
    const during = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).timeNano / 1e6)
      .filter((ms) => ms >= started && ms <= ended);
    return { ...result, checks: during.length };
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    expect((await cli(['user', 'create', 'bulk-user', '--password-stdin'], 'bulk-user-pass')).code).toBe(0);
    expect((await cli(['login', 'bulk-user', '--password-stdin'], 'bulk-user-pass')).code).toBe(0);
    userId = JSON.parse((await cli(['--json', 'whoami'])).stdout).id;
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('deploys one file as P1..PN with one syntax check, and deletes them and their config by prefix', async () => {
    const code = file('adder.py', 'def main(data):\n    return sum(data)\n');
    const deployed = await counted(['--json', 'fn', 'deploy', code, '--bulk', '3', '--prefix', 'bk', '--memory', '128m']);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.checks).toBe(1);
    const doc = JSON.parse(deployed.stdout);
    expect(doc).toMatchObject({ succeeded: 3, failed: 0 });
    expect(doc.items.map((i: { name: string; ok: boolean; version: number }) => [i.name, i.ok, i.version])).toEqual([
      ['bk1', true, 1],
      ['bk2', true, 1],
      ['bk3', true, 1],
    ]);
    expect(await names()).toEqual(['bk1', 'bk2', 'bk3']);
    const [limits] = await rows(
      "SELECT count(DISTINCT v.memory_bytes)::int AS n, min(v.memory_bytes)::float8 AS mem FROM function_versions v JOIN functions f ON f.id = v.function_id WHERE f.name LIKE 'bk%'",
    );
    expect(limits).toEqual({ n: 1, mem: 128 * 1024 * 1024 });
    expect(JSON.parse((await cli(['fn', 'invoke', 'bk2', '--data', '[1, 2, 3]'])).stdout)).toBe(6);

    const sha: string = doc.items[0].sha256;
    expect(doc.items.every((i: { sha256: string }) => i.sha256 === sha)).toBe(true);
    expect(await codeConfigs(sha)).toHaveLength(1);

    const other = await cli(['fn', 'deploy', file('keep.py', 'def main(data):\n    return "kept"\n'), '--name', 'keep']);
    expect(other.code, other.stderr).toBe(0);
    const gone = await cli(['fn', 'delete', '--prefix', 'bk', '--yes']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stderr).toMatch(/^deleted bk1 \(1 code version, [01] Swarm configs? removed\)\n/);
    expect(gone.stderr).toContain('3 deleted, 0 failed');
    expect(gone.stderr.match(/1 Swarm config removed/g)).toHaveLength(1); // the config goes with the last user of it
    expect(await names()).toEqual(['keep']);
    expect(await codeConfigs(sha)).toEqual([]);
    expect((await cli(['fn', 'delete', 'keep'])).code).toBe(0);
  });

  it('rejects a bad file once with exit 2, creating no function, config or version', async () => {
    const bad = file('broken.py', 'def main(data):\n    return (1 +\n');
    const r = await counted(['fn', 'deploy', bad, '--bulk', '3', '--prefix', 'bad']);
    expect(r.code).toBe(2);
    expect(r.checks).toBe(1);
    expect(r.stderr).toMatch(/^error: broken\.py:\d+:\d+: SyntaxError: /);
    expect(r.stderr).toContain('nothing was stored');
    expect(r.stdout).toBe('');
    expect(await names()).toEqual([]);
    expect(await rows("SELECT name FROM functions WHERE name LIKE 'bad%'")).toEqual([]);
    const rejected = await rows("SELECT status, params->>'name' AS name FROM requests WHERE type = 'fn.deploy' AND (params->>'name' LIKE 'bad%' OR function_name LIKE 'bad%')");
    expect(rejected).toEqual([{ status: 'developer_error', name: 'bad1..bad3' }]);
  });

  it('refuses --bulk without --prefix, with --name, and --prefix without --bulk (exit 2, one line and a hint)', async () => {
    const code = file('ok.py', 'def main(data):\n    return 1\n');
    for (const [args, message] of [
      [['--bulk', '3'], '--bulk needs --prefix P'],
      [['--bulk', '3', '--prefix', 'u', '--name', 'x'], 'give either --name or --bulk N --prefix P, not both'],
      [['--prefix', 'u'], '--prefix needs --bulk N'],
      [['--bulk', '0', '--prefix', 'u'], 'invalid --bulk 0'],
      [['--bulk', '2', '--prefix', 'Bad.Prefix'], 'invalid prefix "Bad.Prefix"'],
    ] as const) {
      const r = await cli(['fn', 'deploy', code, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      const [first, hint, rest] = r.stderr.split('\n');
      expect(first).toBe(`error: ${message}`);
      expect(hint).toMatch(/^hint: /);
      expect(rest).toBe('');
    }
    expect(await names()).toEqual([]);
  });

  it('names failed items, exits with the first failure, and updates by prefix with one check', async () => {
    const v1 = file('v1.py', 'def main(data):\n    return 1\n');
    expect((await cli(['fn', 'deploy', v1, '--name', 'up2'])).code).toBe(0);
    const r = await cli(['fn', 'deploy', v1, '--bulk', '3', '--prefix', 'up']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('failed: up2: you already have a function named "up2"');
    expect(r.stderr).toContain('2 deployed, 1 failed');

    const v2 = file('v2.py', 'def main(data):\n    return 2\n');
    const u = await counted(['--json', 'fn', 'update', v2, '--prefix', 'up', '--timeout', '5s']);
    expect(u.code, u.stderr).toBe(0);
    expect(u.checks).toBe(1);
    expect(JSON.parse(u.stdout).items.map((i: { name: string; version: number; outcome: string }) => [i.name, i.version, i.outcome])).toEqual([
      ['up1', 2, 'updated'],
      ['up2', 2, 'updated'],
      ['up3', 2, 'updated'],
    ]);
    expect(JSON.parse((await cli(['fn', 'invoke', 'up3'])).stdout)).toBe(2);
    const again = await cli(['fn', 'update', v2, '--prefix', 'up', '--timeout', '5s']);
    expect(again.stderr).toContain('3 unchanged, 0 failed');

    const noTty = await cli(['fn', 'delete', '--prefix', 'up']);
    expect(noTty.code).toBe(4);
    expect(noTty.stderr).toBe('error: this needs an answer and there is no terminal to ask on\nhint: pass --yes to confirm without a prompt\n');
    expect(await names()).toEqual(['up1', 'up2', 'up3']);
    const q = await cli(['-q', 'fn', 'rm', '--prefix', 'up', '--yes']);
    expect(q.stdout).toBe('up1\nup2\nup3\n');
    const none = await cli(['--json', 'fn', 'delete', '--prefix', 'up']);
    expect(JSON.parse(none.stdout)).toEqual({ succeeded: 0, failed: 0, items: [] });
  });
});

async function codeConfigs(sha: string): Promise<string[]> {
  const configs = (await docker.listConfigs({ filters: JSON.stringify({ label: [`io.faasctl.sha256=${sha}`] }) } as object)) as unknown as Array<{ Spec: { Name: string } }>;
  return configs.map((c) => c.Spec.Name);
}
