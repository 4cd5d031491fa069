import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, type CliResult } from '../helpers/cli.js';
import { NONE, query, settledLeftovers } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { tempDir } from '../helpers/temp.js';

/**
 * Requirements through the built binary, on the real engine, with no index at all (the test
 * machines cannot reach one): a local source package named in requirements.txt is built into
 * the function's image, which cold, warm and `fn run` use; the same requirements reuse it; a
 * broken requirement fails in one line and stores nothing.
 */
describe('dependencies through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const root = tempDir('faasctl-deps-');
  // Unique per run, so the first deploy really builds (no earlier run's image to reuse).
  const answer = randomUUID();
  const built = new Set<string>();
  const cli = (args: string[], timeoutMs = 240_000) => runCli(args, { env, timeoutMs });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const depsImages = async () => (await docker.listImages({ filters: JSON.stringify({ reference: ['faasctl/python-deps'] }) })).map((i) => i.Id).sort();
  // This installation's configs only: other test files create and remove theirs meanwhile.
  const configCount = async () => {
    const [meta] = await query(db.url, "SELECT value FROM faasctl_meta WHERE key = 'installation_id'");
    return ((await docker.listConfigs({ filters: JSON.stringify({ label: [`io.faasctl.installation=${meta!.value}`] }) })) as unknown[]).length;
  };

  /** DIR/handler.py importing mylib, DIR/requirements.txt naming ./mylib, a setuptools source package. */
  function functionDir(name: string, requirements: string): string {
    const dir = join(root, name);
    mkdirSync(join(dir, 'mylib', 'src', 'mylib'), { recursive: true });
    writeFileSync(join(dir, 'mylib', 'pyproject.toml'), '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "mylib"\nversion = "1.0"\n');
    writeFileSync(join(dir, 'mylib', 'src', 'mylib', '__init__.py'), `def answer():\n    return "${answer}"\n`);
    writeFileSync(join(dir, 'handler.py'), 'import mylib\n\ndef main(data):\n    print("mylib from", mylib.__file__)\n    return {"answer": mylib.answer()}\n');
    writeFileSync(join(dir, 'requirements.txt'), requirements);
    return dir;
  }

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    ok(await runCli(['up'], { env, timeoutMs: 300_000 }));
    ok(await runCli(['user', 'create', 'deps-user', '--password-stdin'], { env, input: 'deps-user-pass' }));
    ok(await runCli(['login', 'deps-user', '--password-stdin'], { env, input: 'deps-user-pass' }));
  }, 360_000);
  afterEach(async () => {
    expect(await settledLeftovers(db.url)).toEqual(NONE);
  });
  afterAll(async () => {
    await cli(['user', 'delete', '--force', '--yes']).catch(() => {});
    await runCli(['gc'], { env }).catch(() => {});
    for (const image of built)
      await docker
        .getImage(image)
        .remove()
        .catch(() => {});
    await db?.drop();
  });

  it('builds a local package into the image once, runs it cold, warm and with fn run, and reuses it', async () => {
    const dir = functionDir('withlib', '# a local source package, no index needed\n./mylib\n');
    const first = JSON.parse(ok(await cli(['fn', 'deploy', dir, '--name', 'withlib', '--json'])).stdout);
    expect(first).toMatchObject({ name: 'withlib', version: 1, outcome: 'deployed', reused: false, image: expect.stringMatching(/^faasctl\/python-deps:[0-9a-f]{24}-[0-9a-f]{12}$/) });
    built.add(first.image);
    const contentTag = first.image.replace(/-[0-9a-f]{12}$/, '');
    built.add(contentTag);
    const imageId = (await docker.getImage(first.image).inspect()).Id;

    const cold = ok(await cli(['fn', 'invoke', 'withlib', '--data', '{}']));
    expect(JSON.parse(cold.stdout)).toEqual({ answer });
    expect(cold.stderr).toMatch(/mylib from \/opt\/faasctl\/site\/mylib\/__init__\.py/);
    ok(await cli(['fn', 'scale', 'withlib', '1', '--workers', '1']));
    expect(JSON.parse(ok(await cli(['fn', 'invoke', 'withlib', '--data', '{}'])).stdout)).toEqual({ answer });
    ok(await cli(['fn', 'scale', 'withlib', '0']));
    const modes = await query<{ mode: string }>(db.url, "SELECT mode FROM requests WHERE type = 'fn.invoke' ORDER BY created_at");
    expect(modes.map((m) => m.mode)).toEqual(['cold', 'warm']);

    // Same requirements under another name: the image is reused, nothing is built.
    const again = ok(await cli(['--debug', 'fn', 'deploy', dir, '--name', 'withlib2', '--json']));
    expect(JSON.parse(again.stdout)).toMatchObject({ name: 'withlib2', reused: true, image: first.image });
    expect(again.stderr).toMatch(/exists, reused \(no build\)/);
    expect(again.stderr).not.toMatch(/docker: build |build: Step/);
    expect((await docker.getImage(first.image).inspect()).Id).toBe(imageId);
    expect(JSON.parse(ok(await cli(['fn', 'invoke', 'withlib2', '--data', '{}'])).stdout)).toEqual({ answer });

    // fn run DIR: the same image, no database.
    const local = ok(await cli(['--debug', 'fn', 'run', dir, '--data', '{}']));
    expect(JSON.parse(local.stdout)).toEqual({ answer });
    expect(local.stderr).toMatch(/exists, reused/);

    // fn show has the requirements and the image; an update with new code keeps them.
    const show = JSON.parse(ok(await cli(['fn', 'show', 'withlib', '--json', '--no-code'])).stdout);
    expect(show).toMatchObject({ image: first.image, requirements: '# a local source package, no index needed\n./mylib\n' });
    expect(ok(await cli(['fn', 'show', 'withlib', '--no-code'])).stdout).toMatch(/requirements\s+\.\/mylib/);
    const code = join(root, 'v2.py');
    writeFileSync(code, 'import mylib\n\ndef main(data):\n    return {"v2": mylib.answer()}\n');
    expect(JSON.parse(ok(await cli(['fn', 'update', 'withlib', code, '--json'])).stdout)).toMatchObject({ version: 2, image: first.image });
    expect(JSON.parse(ok(await cli(['fn', 'invoke', 'withlib'])).stdout)).toEqual({ v2: answer });

    // gc keeps the image while a version runs in it, and removes its tags once none does.
    const exists = (ref: string) =>
      docker
        .getImage(ref)
        .inspect()
        .then(
          () => true,
          () => false,
        );
    ok(await cli(['fn', 'delete', 'withlib']));
    ok(await cli(['gc']));
    expect(await exists(first.image)).toBe(true);
    ok(await cli(['fn', 'delete', 'withlib2']));
    const gc = JSON.parse(ok(await cli(['gc', '--json'])).stdout) as { imagesRemoved: number };
    expect(gc.imagesRemoved).toBe(2);
    expect([await exists(first.image), await exists(contentTag)]).toEqual([false, false]);
  }, 600_000);

  it('fails a broken requirement in one line and stores nothing', async () => {
    const dir = functionDir('broken', '--no-index\n./mylib\nnosuchpkg==1.0\n');
    const [images, configs, requests] = [await depsImages(), await configCount(), await query(db.url, 'SELECT id FROM requests')];
    const r = await cli(['fn', 'deploy', dir, '--name', 'broken']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('error: requirements failed to install: no such package: nosuchpkg==1.0 (pip found no version of it)');
    expect(lines.slice(1)).toEqual(["hint: run with --debug to see pip's output; nothing was stored"]);
    expect(await query(db.url, "SELECT 1 FROM functions WHERE name = 'broken'")).toEqual([]);
    expect(await query(db.url, 'SELECT id FROM requests')).toEqual(requests);
    expect(await configCount()).toBe(configs);
    expect(await depsImages()).toEqual(images);

    // --debug streams pip's own output (the builder's lines), then the same one-line error.
    const debug = await cli(['--debug', 'fn', 'deploy', dir, '--name', 'broken']);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/debug: \+\d+ms build: Processing \.\/local\/0-mylib\n/);
    expect(debug.stderr).toMatch(/debug: \+\d+ms build: ERROR: No matching distribution found for nosuchpkg==1\.0/);
    expect(debug.stderr).toMatch(/\nerror: requirements failed to install: no such package: nosuchpkg==1\.0 \(pip found no version of it\)\n/);
    expect(await depsImages()).toEqual(images);

    // A local path that does not exist: a usage error before any build.
    writeFileSync(join(dir, 'requirements.txt'), 'six\n./nope\n');
    const missing = await cli(['--debug', 'fn', 'deploy', dir, '--name', 'broken']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/error: .*requirements\.txt:2: \.\/nope: no such file or directory/);
    expect(missing.stderr).not.toMatch(/docker: build /);
    expect(await query(db.url, "SELECT 1 FROM functions WHERE name = 'broken'")).toEqual([]);

    // A directory without a function file names the files it looked for.
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const none = await cli(['fn', 'deploy', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/has no function file: none of empty\.py, handler\.py, main\.py/);
  }, 300_000);
});
