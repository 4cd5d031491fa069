// The deploy-time import check in the Python runtime (issue 19), run with the host's python3:
// `check --import-timeout-ms` imports the module in a child and refuses what would fail at the
// first invoke, naming the user's file and line, never the runtime's frames.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { PYTHON, requirePython, runtimeArgv } from '../helpers/python-runtime.js';
import { tempDir } from '../helpers/temp.js';

requirePython();

let dir = '';
beforeAll(() => {
  dir = tempDir('faasctl-import-check-test-');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The verdict of `check` with the import check on; the file is called `mine.py` in messages. */
function check(source: string, limitMs = 10_000, env: Record<string, string> = {}): Promise<Record<string, any>> {
  const path = join(dir, `fn-${randomBytes(6).toString('hex')}.py`);
  writeFileSync(path, source);
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, runtimeArgv('check', '--file', path, '--filename', 'mine.py', '--import-timeout-ms', String(limitMs)), { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
      } catch (err) {
        reject(new Error(`no verdict: ${stdout} (${(err as Error).message})`));
      }
    });
  });
}

describe.concurrent('python runtime: the import check', { timeout: 20_000 }, () => {
  it('passes a module that imports and prints at import time, its prints kept out of the verdict', async ({ expect }) => {
    expect(await check('import json\nprint("loading")\nimport sys\nsys.stderr.write("no newline")\n\ndef handler(event, context):\n    return event\n')).toEqual({
      ok: true,
      format: 'lambda',
      entry: 'handler',
    });
  });

  it("names a missing module, the user's line and nothing of the runtime", async ({ expect }) => {
    const verdict = await check('import os\nimport yaml_not_installed.sub\n\ndef main(args):\n    return args\n');
    expect(verdict.error).toMatchObject({ kind: 'import', type: 'ModuleNotFoundError', module: 'yaml_not_installed', line: 2 });
    expect(verdict.error.traceback).toContain('File "mine.py", line 2, in <module>');
    expect(verdict.error.traceback).not.toContain('faasctl_runtime');
  });

  it('reports an import that raises with its traceback from the user file on', async ({ expect }) => {
    const verdict = await check('def load():\n    return {}["model"]\n\nMODEL = load()\n\ndef main(args):\n    return MODEL\n');
    expect(verdict.error).toMatchObject({ kind: 'import', type: 'KeyError', message: "'model'", line: 2 });
    expect(verdict.error.traceback).toMatch(/File "mine.py", line 4, in <module>[\s\S]*File "mine.py", line 2, in load/);
    expect(verdict.error.traceback).toContain('return {}["model"]');
    expect(verdict.error.traceback).not.toContain('faasctl_runtime');
  });

  it('refuses sys.exit at import and an entry that the import replaced with a non-function', async ({ expect }) => {
    expect((await check('import sys\nsys.exit(3)\ndef main(a):\n    return a\n')).error).toMatchObject({ kind: 'import', type: 'SystemExit', message: 'the module called sys.exit(3) at import' });
    expect((await check('def main(a):\n    return a\nmain = 5\n')).error).toMatchObject({ kind: 'entry', message: "entry 'main' is a int, not a function" });
  });

  it('stops an import that hangs at the limit and says where it was', async ({ expect }) => {
    const verdict = await check('import time\n\ndef main(a):\n    return a\n\ntime.sleep(60)\n', 2000);
    expect(verdict.error).toMatchObject({ kind: 'import_timeout', message: 'the import did not finish within 2000 ms' });
    expect(verdict.error.traceback).toBe('File "mine.py", line 6 in <module>');
  });

  it('reports an import that crashes the interpreter, with the line it crashed at', async ({ expect }) => {
    const verdict = await check('import ctypes\n\nctypes.string_at(0)\n\ndef main(a):\n    return a\n');
    expect(verdict.error).toMatchObject({ kind: 'import_crash', message: 'the import crashed: killed by SIGSEGV' });
    expect(verdict.error.traceback).toBe('File "mine.py", line 3 in <module>');
  });

  it('answers once the import is done even when it left a process holding its pipes', async ({ expect }) => {
    // The forked child sleeps far beyond the limit: a verdict of ok (not a timeout) shows the
    // check did not wait for it.
    expect(await check('import os, time\nif os.fork() == 0:\n    time.sleep(60)\n\ndef main(a):\n    return a\n', 5000)).toMatchObject({ ok: true });
  });

  it("gives the import the function's environment, without the runtime's settings", async ({ expect }) => {
    const source = 'import os\nassert os.environ["MODE"] == "full", os.environ.get("MODE")\nassert not any(k.startswith("FAASCTL_") for k in os.environ)\n\ndef main(a):\n    return a\n';
    expect(await check(source, 10_000, { MODE: 'full', FAASCTL_SECRET_THING: 'x' })).toMatchObject({ ok: true });
    expect((await check(source, 10_000, { MODE: 'test' })).error).toMatchObject({ kind: 'import', type: 'AssertionError', message: 'test' });
  });
});
