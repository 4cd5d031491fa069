import { createHash, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, type CliResult } from '../helpers/cli.js';
import { query, cleansUpAfterEach } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { tempDir } from '../helpers/temp.js';

/** Reads its secret through the runtime's helper and answers a digest: nothing of the value itself. */
const READER = `import hashlib
import faasctl

def main(data):
    value = faasctl.secret("api-key")
    print("read a secret of", len(value), "characters")
    return {"sha256": hashlib.sha256(value.encode()).hexdigest(), "length": len(value)}
`;

/**
 * Secrets through the built binary, on the real Swarm and PostgreSQL: a function reads its
 * secret cold and warm, and the value shows up nowhere else: not in the request log, not in
 * `fn show`, `secret ls` or an invoke's --debug output.
 */
describe('secrets through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const dir = tempDir('faasctl-secrets-');
  const value = `s3cr3t-${randomUUID()}`;
  const cli = (args: string[], input?: string, timeoutMs?: number) => runCli(args, { env, input, timeoutMs });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const userSecrets = async () => {
    const [user] = await query<{ id: string }>(db.url, "SELECT id FROM users WHERE name = 'secret-user'");
    return docker.listSecrets({ filters: JSON.stringify({ label: [`io.faasctl.user=${user!.id}`, 'io.faasctl.component=secret'] }) });
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    ok(await runCli(['up'], { env, timeoutMs: 300_000 }));
    ok(await cli(['user', 'create', 'secret-user', '--password-stdin'], 'secret-user-pass'));
    ok(await cli(['login', 'secret-user', '--password-stdin'], 'secret-user-pass'));
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('mounts a secret cold and warm, and its value appears nowhere else', async () => {
    expect((await cli(['secret', 'create', 'api-key'])).stderr).toMatch(/stdin gave nothing/);
    ok(await cli(['secret', 'create', 'api-key'], `${value}\n`));
    expect((await cli(['secret', 'create', 'api-key'], value)).code).toBe(3);
    const [created] = await userSecrets();
    expect(created?.Spec?.Name).toMatch(/^faasctl-sec-[0-9a-f]{12}-[0-9a-f]{12}-api-key$/);

    const file = join(dir, 'reader.py');
    writeFileSync(file, READER);
    // An unknown secret: refused, nothing stored.
    const unknown = await cli(['fn', 'deploy', file, '--name', 'reader', '--secret', 'nope']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/secret "nope" not found/);
    expect(await query(db.url, 'SELECT 1 FROM functions')).toEqual([]);

    const expected = { sha256: createHash('sha256').update(value).digest('hex'), length: value.length };
    ok(await cli(['fn', 'deploy', file, '--name', 'reader', '--secret', 'api-key']));
    const cold = ok(await cli(['fn', 'invoke', 'reader', '--data', '{}']));
    expect(JSON.parse(cold.stdout)).toEqual(expected);
    const debug = ok(await cli(['--debug', 'fn', 'invoke', 'reader', '--data', '{}']));
    expect(JSON.parse(debug.stdout)).toEqual(expected);
    expect(debug.stderr).toMatch(/docker: service create/);

    ok(await cli(['fn', 'scale', 'reader', '1', '--workers', '1'], undefined, 120_000));
    const warm = ok(await cli(['fn', 'invoke', 'reader', '--data', '{}']));
    expect(JSON.parse(warm.stdout)).toEqual(expected);
    ok(await cli(['fn', 'scale', 'reader', '0'], undefined, 120_000));
    const modes = await query<{ mode: string }>(db.url, "SELECT mode FROM requests WHERE type = 'fn.invoke' ORDER BY created_at");
    expect(modes.map((m) => m.mode)).toEqual(['cold', 'cold', 'warm']);

    const show = ok(await cli(['fn', 'show', 'reader']));
    expect(show.stdout).toContain('/run/secrets/api-key');
    const showJson = ok(await cli(['fn', 'show', 'reader', '--json']));
    expect(JSON.parse(showJson.stdout).secrets).toEqual(['api-key']);
    const ls = ok(await cli(['secret', 'ls', '--json']));
    expect(JSON.parse(ls.stdout)).toEqual([{ name: 'api-key', usedBy: ['reader'], createdAt: expect.any(String) }]);
    const requests = await query<{ row: string }>(db.url, 'SELECT r::text AS row FROM requests r');
    const versions = await query<{ row: string }>(db.url, 'SELECT v::text AS row FROM function_versions v');
    const secretRows = await query<{ row: string }>(db.url, 'SELECT s::text AS row FROM secrets s');
    const everything = [cold, debug, warm, show, showJson, ls].flatMap((r) => [r.stdout, r.stderr]).concat([...requests, ...versions, ...secretRows].map((r) => r.row));
    expect(requests.length).toBeGreaterThanOrEqual(6);
    for (const text of everything) expect(text).not.toContain(value);

    // In use by a version: refused, naming the function.
    const refused = await cli(['secret', 'rm', 'api-key']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/secret "api-key" is used by "reader"/);
    expect(refused.stderr).not.toContain(value);

    ok(await cli(['fn', 'delete', 'reader']));
    ok(await cli(['secret', 'rm', 'api-key']));
    expect(JSON.parse(ok(await cli(['secret', 'ls', '--json'])).stdout)).toEqual([]);
    expect(await userSecrets()).toEqual([]);
  }, 240_000);

  it('reads a value from --from-file, and fn update adds and removes secrets', async () => {
    const valueFile = join(dir, 'token.txt');
    writeFileSync(valueFile, 'file-value');
    ok(await cli(['secret', 'create', 'token', '--from-file', valueFile]));
    const file = join(dir, 'plain.py');
    writeFileSync(file, 'import faasctl\ndef main(data):\n    try:\n        return len(faasctl.secret("token"))\n    except KeyError as e:\n        return str(e)\n');
    ok(await cli(['fn', 'deploy', file, '--name', 'plain']));
    expect(JSON.parse(ok(await cli(['fn', 'invoke', 'plain'])).stdout)).toMatch(/not mounted: deploy with --secret token/);
    ok(await cli(['fn', 'update', 'plain', '--secret', 'token']));
    expect(JSON.parse(ok(await cli(['fn', 'invoke', 'plain'])).stdout)).toBe('file-value'.length);
    ok(await cli(['fn', 'update', 'plain', '--secret=-token']));
    expect(JSON.parse(ok(await cli(['fn', 'show', 'plain', '--json'])).stdout).secrets).toEqual([]);
    // v2 still mounts it: a rollback could bring it back.
    expect((await cli(['secret', 'rm', 'token'])).code).toBe(3);
    ok(await cli(['fn', 'delete', 'plain']));
    ok(await cli(['secret', 'rm', 'token']));
    expect(await userSecrets()).toEqual([]);
  }, 180_000);
});
