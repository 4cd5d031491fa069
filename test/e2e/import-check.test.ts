import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { startCli } from '../helpers/background-cli.js';
import { type CliResult, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

/** Imports a package that is not installed, two lines down. */
const MISSING = `import json
import yaml_is_not_installed

def main(args):
    return json.dumps(args)
`;

/** Loads a "model" at import that is not there. */
const RAISES = `import os

def load_model():
    return open(os.path.join("/models", "weights.bin"), "rb").read()

MODEL = load_model()

def main(args):
    return len(MODEL)
`;

/** Says hello at import, and the import check keeps that out of the deploy's output. */
const PRINTS = `print("warming the cache")

def main(args):
    return {"args": args}
`;

/** Reads its secret at import: only an invocation has it mounted. */
const SECRET_AT_IMPORT = `import faasctl

TOKEN = faasctl.secret("api-token")

def main(args):
    return {"tokenLength": len(TOKEN)}
`;

/** Never finishes importing. */
const HANGS = `import time

def main(args):
    return args

while True:
    time.sleep(1)
`;

/**
 * The deploy-time import check (issue 19) through the built binary on the real engine: what
 * would fail at the first invoke is refused at deploy, in the function's own sandbox.
 */
describe('the import check at deploy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const { file } = scratchDir('faasctl-import-check-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 120_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const json = async (args: string[], input?: string) => JSON.parse(ok(await cli(['--json', ...args], input)).stdout);
  const functions = async () => (await json(['fn', 'list'])).map((f: { name: string }) => f.name);

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'import-user', '--password-stdin'], 'import-user-pass'));
    ok(await cli(['login', 'import-user', '--password-stdin'], 'import-user-pass'));
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('refuses a missing module at deploy in one line naming it, with the hint to add it; nothing stored, the refusal recorded', async () => {
    const r = await cli(['fn', 'deploy', file('report.py', MISSING)]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe("error: report.py:2: no module named 'yaml_is_not_installed'");
    expect(lines[1]).toMatch(/^hint: add the package that provides yaml_is_not_installed to requirements\.txt .*--no-import-check/);
    expect(lines).toHaveLength(2);
    expect(await functions()).toEqual([]);
    const rows = await query<{ status: string; error: string }>(db.url, "SELECT status, error FROM requests WHERE type = 'fn.deploy'");
    expect(rows).toEqual([{ status: 'developer_error', error: "report.py:2: no module named 'yaml_is_not_installed'" }]);

    const asJson = await cli(['--json', 'fn', 'deploy', file('report.py', MISSING)]);
    expect(JSON.parse(asJson.stdout).error).toMatchObject({ code: 'module_missing', exitCode: 2 });
  });

  it("refuses an import that raises with the traceback of the user's file, not the runtime's", async () => {
    const r = await cli(['fn', 'deploy', file('model.py', RAISES)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: model\.py:4: the import raised FileNotFoundError: \[Errno 2\] No such file or directory: '\/models\/weights\.bin'\n/);
    // The source lines are quoted (Python 3.11+ adds caret lines under them).
    expect(r.stderr).toMatch(/File "model\.py", line 6, in <module>\n\s+MODEL = load_model\(\)\n[\s^]*File "model\.py", line 4, in load_model\n\s+return open/);
    expect(r.stderr).not.toMatch(/faasctl_runtime|function\.py/);
    expect(await functions()).toEqual([]);
  });

  it('keeps import-time prints out of the deploy, and the invocation still shows them', async () => {
    const deployed = ok(await cli(['fn', 'deploy', file('chatty.py', PRINTS)]));
    expect(deployed.stdout + deployed.stderr).not.toContain('warming the cache');
    const invoked = ok(await cli(['fn', 'invoke', 'chatty', '--data', '[1]']));
    expect(invoked.stderr).toContain('warming the cache');
    expect(JSON.parse(invoked.stdout)).toEqual({ args: [1] });
    ok(await cli(['fn', 'delete', 'chatty']));
  });

  it('refuses an update whose import fails and keeps the current version; --no-import-check deploys a module that needs its secret at import', async () => {
    ok(await cli(['secret', 'create', 'api-token'], 'abcdef'));
    ok(await cli(['fn', 'deploy', file('tokened.py', PRINTS)]));
    const refused = await cli(['fn', 'update', 'tokened', file('tokened.py', SECRET_AT_IMPORT), '--secret', 'api-token']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: tokened\.py:3: the import raised KeyError: "secret 'api-token' is not mounted/);
    expect((await json(['fn', 'show', 'tokened', '--no-code'])).version).toBe(1);

    const updated = await json(['fn', 'update', 'tokened', file('tokened.py', SECRET_AT_IMPORT), '--secret', 'api-token', '--no-import-check']);
    expect(updated).toMatchObject({ version: 2 });
    expect((await json(['fn', 'invoke', 'tokened'])).result).toEqual({ tokenLength: 6 });
    ok(await cli(['fn', 'delete', 'tokened']));
    ok(await cli(['secret', 'rm', 'api-token']));
  });

  it('stops an import that hangs at the limit and says where it was', async () => {
    const r = await cli(['fn', 'deploy', file('spin.py', HANGS)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: spin\.py: the import did not finish within 10000 ms\n/);
    expect(r.stderr).toMatch(/File "spin\.py", line 7 in <module>/);
    expect(await functions()).toEqual([]);
  });

  it('Ctrl-C during the check removes its container and stores nothing, exit 130', async () => {
    const deploy = startCli(['fn', 'deploy', file('interrupted.py', HANGS)], env);
    const checks = () => docker.listContainers({ all: true, filters: JSON.stringify({ label: ['io.faasctl.component=check', `io.faasctl.installation`] }) });
    const installation = (await query<{ value: string }>(db.url, "SELECT value FROM faasctl_meta WHERE key = 'installation_id'"))[0]!.value;
    const mine = async () => (await checks()).filter((c) => c.Labels['io.faasctl.installation'] === installation && c.State === 'running');
    await waitFor('the check container running', async () => (await mine()).length === 1);
    deploy.signal('SIGINT');
    const r = await deploy.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted during the code check; nothing was stored/);
    expect(await checks().then((all) => all.filter((c) => c.Labels['io.faasctl.installation'] === installation))).toEqual([]);
    expect(await functions()).toEqual([]);
  });
});
