import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliResult, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';

/** A small report function: a sibling module renders a template kept next to it, a package shouts. */
const REPORT_FILES: Record<string, string> = {
  'handler.py': `import os
from render import render
from text.case import shout

def main(args):
    with open("templates/title.txt") as f:   # relative to the working directory
        title = f.read().strip()
    return {"title": shout(title), "body": render(args), "cwd": os.getcwd(), "file": __file__}
`,
  'render.py': `import os

TEMPLATE = os.path.join(os.path.dirname(__file__), "templates", "body.txt")

def render(args):
    with open(TEMPLATE) as f:
        text = f.read().strip()
    if "who" not in args:
        raise KeyError("who")
    return text.format(**args)
`,
  'templates/body.txt': 'dear {who}, your total is {total}\n',
  'templates/title.txt': 'monthly report\n',
  'text/__init__.py': '',
  'text/case.py': 'def shout(s):\n    return s.upper()\n',
};

/** OpenWhisk's zip action: __main__.py at the top, with a helper module beside it. */
const OPENWHISK_ZIP: Record<string, string> = {
  '__main__.py': `from tally import tally

def main(args):
    return {"counts": tally(args.get("words", []))}
`,
  'tally.py': `import collections

def tally(words):
    return dict(collections.Counter(words))
`,
};

/**
 * Code as a directory or a zip (issue 19) through the built binary: the whole directory ships,
 * runs from its own directory cold, warm and under fn run, and an OpenWhisk zip deploys as is.
 */
describe('code as a directory or a zip', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { dir } = scratchDir('faasctl-archives-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 120_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const json = async (args: string[], input?: string) => JSON.parse(ok(await cli(['--json', ...args], input)).stdout);
  const tree = (name: string, files: Record<string, string | Buffer>) => {
    const root = join(dir, name);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };
  const zip = (name: string, files: Record<string, string>) => {
    const path = join(dir, name);
    writeFileSync(path, zipSync(Object.fromEntries(Object.entries(files).map(([p, t]) => [p, new TextEncoder().encode(t)]))));
    return path;
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'archive-user', '--password-stdin'], 'archive-user-pass'));
    ok(await cli(['login', 'archive-user', '--password-stdin'], 'archive-user-pass'));
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('ships a directory whole: sibling modules, a package and templates, run from its own directory cold, warm and under fn run', async () => {
    const root = tree('report', REPORT_FILES);
    const deployed = await json(['fn', 'deploy', root]);
    expect(deployed).toMatchObject({ name: 'report', module: 'handler.py', entry: 'main', flavor: 'main' });
    const show = await json(['fn', 'show', 'report']);
    expect(show).toMatchObject({ module: 'handler.py', code: REPORT_FILES['handler.py'] });

    const expected = { title: 'MONTHLY REPORT', body: 'dear Ada, your total is 42', cwd: '/tmp/code', file: '/tmp/code/handler.py' };
    const input = '{"who": "Ada", "total": 42}';
    expect((await json(['fn', 'invoke', 'report', '--data', input])).result).toEqual(expected);
    ok(await cli(['fn', 'scale', 'report', '1', '--workers', '1']));
    expect(await json(['fn', 'invoke', 'report', '--data', input])).toMatchObject({ mode: 'warm', result: expected });
    expect((await json(['fn', 'run', root, '--data', input])).result).toEqual(expected);

    // A sibling's traceback names its own file and line.
    const failed = await cli(['--json', 'fn', 'invoke', 'report', '--cold', '--data', '{"total": 1}']);
    expect(failed.code).toBe(6);
    const error = JSON.parse(failed.stdout).error;
    expect(error).toMatchObject({ type: 'KeyError' });
    expect(error.traceback).toMatch(/File "\/tmp\/code\/handler\.py", line 8, in main[\s\S]*File "\/tmp\/code\/render\.py", line 9, in render/);
    expect(error.traceback).not.toMatch(/faasctl_runtime/);

    // The same files make the same archive: no new version.
    expect(await json(['fn', 'update', 'report', root])).toMatchObject({ version: 1, outcome: 'unchanged' });
    // New limits only: the version keeps the archive.
    expect(await json(['fn', 'update', 'report', '--memory', '128m'])).toMatchObject({ version: 2, module: 'handler.py' });
    expect((await json(['fn', 'invoke', 'report', '--cold', '--data', input])).result).toEqual(expected);
    ok(await cli(['fn', 'delete', 'report']));
  });

  it('deploys an OpenWhisk-style zip with __main__.py as is', async () => {
    const path = zip('wordcount.zip', OPENWHISK_ZIP);
    const deployed = await json(['fn', 'deploy', path]);
    expect(deployed).toMatchObject({ name: 'wordcount', module: '__main__.py', entry: 'main' });
    expect((await json(['fn', 'invoke', 'wordcount', '--data', '{"words": ["a", "b", "a"]}'])).result).toEqual({ counts: { a: 2, b: 1 } });
    ok(await cli(['fn', 'delete', 'wordcount']));
  });

  it('checks the whole directory at deploy: a sibling importing a missing module is refused, naming it', async () => {
    const root = tree('broken', { 'handler.py': 'from helpers import clean\n\ndef main(args):\n    return clean(args)\n', 'helpers.py': 'import unidecode_missing\n\ndef clean(x):\n    return x\n' });
    const r = await cli(['fn', 'deploy', root]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("error: helpers.py:1: no module named 'unidecode_missing'");
    expect((await json(['fn', 'list'])).length).toBe(0);
  });

  it('refuses code above the size limits, saying them, and a zip without an entry module, saying what it holds', async () => {
    const big = tree('big', { 'handler.py': 'def main(a):\n    return a\n', 'model.bin': randomBytes(600 * 1024) });
    const r = await cli(['fn', 'deploy', big]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: handler\.py is \d+ bytes zipped \(2 files\); the limit is 512000 bytes zipped \(a Swarm config holds at most 500 KiB\) and 33554432 unpacked\n/);

    const nested = zip('nested.zip', { 'app/__main__.py': 'def main(a):\n    return a\n' });
    const n = await cli(['fn', 'deploy', nested]);
    expect(n.code).toBe(2);
    expect(n.stderr.split('\n')[0]).toBe(`error: ${nested} has no entry module at its top: none of __main__.py, nested.py, handler.py, main.py (found: no files at the top)`);
    expect((await json(['fn', 'list'])).length).toBe(0);
  });
});
