import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliResult, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

/** Needs six, which Debian packages as python3-six (the runtime image does not have it). */
const USES_SIX = `import six

def main(args):
    return {"six": six.__version__, "from": six.__file__, "text": six.text_type(args)}
`;

/**
 * System packages and installer failures (issue 19) through the built binary: Debian packages
 * named in apt.txt or with --apt go into the function's dependency image from the image's own
 * Debian mirror; a pip or apt failure says its real cause in one line, at once, storing nothing.
 */
describe('Debian packages and installer failures at deploy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { dir, file } = scratchDir('faasctl-apt-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 300_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const json = async (args: string[]) => JSON.parse(ok(await cli(['--json', ...args])).stdout);
  const nothingStored = async (name: string) => {
    expect(await json(['fn', 'list'])).toEqual([]);
    expect(await query(db.url, "SELECT id FROM requests WHERE params->>'name' = $1", [name])).toEqual([]);
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'apt-user', '--password-stdin'], 'apt-user-pass'));
    ok(await cli(['login', 'apt-user', '--password-stdin'], 'apt-user-pass'));
  }, 360_000);
  cleansUpAfterEach(() => ({ db, env }));

  it("installs apt.txt's Debian package into the function's image; --apt names the same image again", async () => {
    // Without it, the import check refuses the module at deploy.
    const missing = await cli(['fn', 'deploy', file('sixless.py', USES_SIX)]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n')[0]).toBe("error: sixless.py:1: no module named 'six'");

    const fn = join(dir, 'textfn');
    mkdirSync(fn);
    writeFileSync(join(fn, 'handler.py'), USES_SIX);
    writeFileSync(join(fn, 'apt.txt'), '# Binder style\npython3-six\n');
    const deployed = await json(['fn', 'deploy', fn]);
    expect(deployed).toMatchObject({ name: 'textfn', module: null, image: expect.stringMatching(/^faasctl\/python-deps:[0-9a-f]{24}-[0-9a-f]{12}$/) });
    const answer = await json(['fn', 'invoke', 'textfn', '--data', '"abc"']);
    expect(answer.result).toMatchObject({ six: expect.stringMatching(/^1\./), from: expect.stringMatching(/^\/usr\/lib\/python3\/dist-packages\/six\.py$/), text: 'abc' });
    expect(await json(['fn', 'show', 'textfn', '--no-code'])).toMatchObject({ apt: ['python3-six'], image: deployed.image });

    const again = await json(['fn', 'deploy', file('sixtoo.py', USES_SIX), '--apt', 'python3-six']);
    expect(again).toMatchObject({ image: deployed.image, reused: true });
    ok(await cli(['fn', 'delete', 'textfn']));
    ok(await cli(['fn', 'delete', 'sixtoo']));
  });

  it('says an unreachable pip index in one line, without waiting through retries, and stores nothing', async () => {
    // Loopback inside the build container: nothing listens there.
    const reqs = file('reqs.txt', 'leftpad-not-here==1.0\n');
    const r = await cli(['fn', 'deploy', file('offline.py', 'def main(a):\n    return a\n'), '--requirements', reqs, '--pip-index-url', 'http://127.0.0.1:9/simple']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: requirements failed to install: the package index cannot be reached: Connection refused (http://127.0.0.1:9/simple)',
      "hint: run with --debug to see pip's output; nothing was stored",
    ]);
    await nothingStored('offline');
  });

  it('names a Debian package that does not exist', async () => {
    const r = await cli(['fn', 'deploy', file('nopkg.py', 'def main(a):\n    return a\n'), '--apt', 'python3-faasctl-no-such-package']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toBe('error: Debian packages failed to install: no such Debian package: python3-faasctl-no-such-package');
    await nothingStored('nopkg');
  });
});
