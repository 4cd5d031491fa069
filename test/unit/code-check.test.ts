import { describe, expect, it } from 'vitest';
import { checkCode, checkFailure, importFailure } from '../../src/core/functions/code-check.js';
import { CancelledError, PlatformError, UsageError } from '../../src/base/errors.js';
import type { ContainerRunSpec } from '../../src/swarm/sandbox.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

describe('checkFailure', () => {
  it('formats a syntax error like a compiler: file:line:col, the source line and a caret', () => {
    const e = checkFailure({ kind: 'syntax', type: 'SyntaxError', message: "'(' was never closed", line: 3, col: 9, text: 'x = print(', caret: '        ^' }, 'hello.py');
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe("hello.py:3:9: SyntaxError: '(' was never closed");
    expect(e.detail).toBe('    x = print(\n            ^');
    expect(e.code).toBe('syntax_error');
    expect(e.exitCode).toBe(2);
    expect(e.hint).toMatch(/nothing was stored/);
  });

  it('keeps the error type CPython gave, and defaults to SyntaxError', () => {
    expect(checkFailure({ kind: 'syntax', type: 'IndentationError', message: 'unexpected indent', line: 2, col: 5 }, 'f.py').message).toBe('f.py:2:5: IndentationError: unexpected indent');
    expect(checkFailure({ kind: 'syntax', message: 'invalid syntax', line: 1, col: 1 }, 'f.py').message).toBe('f.py:1:1: SyntaxError: invalid syntax');
  });

  it('leaves out what is unknown: the column, the line, the caret, the whole detail', () => {
    const noCol = checkFailure({ kind: 'syntax', type: 'SyntaxError', message: 'source code cannot contain null bytes', line: 4, col: null, text: 'a\u0000b', caret: null }, 'f.py');
    expect(noCol.message).toBe('f.py:4: SyntaxError: source code cannot contain null bytes');
    expect(noCol.detail).toBe('    a\u0000b');
    const nowhere = checkFailure({ kind: 'syntax', type: 'RecursionError', message: 'too many nested parentheses', line: null, col: 7, text: null, caret: null }, 'f.py');
    expect(nowhere.message).toBe('f.py: RecursionError: too many nested parentheses');
    expect(nowhere.detail).toBeUndefined();
  });

  it('reports a missing entry point as entry_missing, exit 2, with how to name one', () => {
    const e = checkFailure({ kind: 'entry', message: 'no function named "handler" in hello.py (found: main, helper)' }, 'hello.py');
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('no function named "handler" in hello.py (found: main, helper)');
    expect(e.code).toBe('entry_missing');
    expect(e.exitCode).toBe(2);
    expect(e.hint).toMatch(/--entry NAME/);
  });
});

describe('checkCode', () => {
  function swarmAnswering(run: { exitCode?: number; stdout?: string; stderr?: string; timedOut?: boolean }) {
    const specs: ContainerRunSpec[] = [];
    const swarm = new FakeSwarm({
      runContainer: async (spec) => {
        specs.push(spec);
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...run };
      },
    });
    return { swarm, specs };
  }

  it('runs the check container and takes the verdict from the last stdout line', async () => {
    const verdict = { ok: true, format: 'madhat', entry: 'madhat_func', warnings: [{ message: 'global after def', line: 5 }] };
    const { swarm, specs } = swarmAnswering({ stdout: `noise\n${JSON.stringify(verdict)}\n` });
    await expect(checkCode(swarm, 'img:1', 'code', undefined, 'f.py', { userId: 'user-9', installation: 'inst-1' })).resolves.toEqual({
      format: 'madhat',
      entry: 'madhat_func',
      warnings: verdict.warnings,
    });
    expect(specs).toHaveLength(1);
    expect(specs[0]!.files).toEqual({ '/tmp/function.py': 'code' });
    expect(specs[0]!.cmd).toContain('f.py');
    expect(specs[0]!.labels['io.faasctl.user']).toBe('user-9');
  });

  it('defaults the format, entry and warnings a passing verdict leaves out', async () => {
    const { swarm } = swarmAnswering({ stdout: '{"ok":true}' });
    await expect(checkCode(swarm, 'img:1', 'code', 'handler', 'f.py', { userId: 'user-9', installation: 'inst-1' })).resolves.toEqual({ format: 'main', entry: 'handler', warnings: [] });
  });

  it('turns a failing verdict into the syntax error', async () => {
    const { swarm } = swarmAnswering({
      exitCode: 1,
      stdout: JSON.stringify({ ok: false, error: { kind: 'syntax', type: 'SyntaxError', message: 'invalid syntax', line: 1, col: 4, text: 'def', caret: '   ^' } }),
    });
    await expect(checkCode(swarm, 'img:1', 'def', undefined, 'f.py', { userId: 'user-9', installation: 'inst-1' })).rejects.toMatchObject({
      code: 'syntax_error',
      message: 'f.py:1:4: SyntaxError: invalid syntax',
    });
  });

  it('blames the platform (exit 8) when the check gives no verdict, with the last stderr lines', async () => {
    const stderr = ['1', '2', '3', '4', '5', '6', 'exec format error'].join('\n');
    const { swarm } = swarmAnswering({ exitCode: 139, stdout: '', stderr });
    const err = await checkCode(swarm, 'img:1', 'x', undefined, 'f.py', { userId: 'user-9', installation: 'inst-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'check_failed', exitCode: 8, message: 'the syntax check in img:1 exited 139 without a verdict', detail: '3\n4\n5\n6\nexec format error' });
  });

  it('says when the check timed out', async () => {
    const { swarm } = swarmAnswering({ exitCode: 137, timedOut: true });
    await expect(checkCode(swarm, 'img:1', 'x', undefined, 'f.py', { userId: 'user-9', installation: 'inst-1' })).rejects.toMatchObject({
      message: 'the syntax check in img:1 timed out without a verdict',
      detail: undefined,
    });
  });
});

/** A swarm whose check container answers `run`. */
function answering(run: { exitCode?: number; stdout?: string; cancelled?: boolean }) {
  return new FakeSwarm({ runContainer: async () => ({ exitCode: 0, stdout: '', stderr: '', timedOut: false, ...run }) });
}

describe('importFailure', () => {
  it('names a missing module in one line with the hint to add it, without the traceback', () => {
    const e = importFailure({ kind: 'import', type: 'ModuleNotFoundError', message: "No module named 'yaml'", module: 'yaml.constructor', line: 2, traceback: 'Traceback…' }, 'r.py');
    expect(e).toMatchObject({ code: 'module_missing', exitCode: 2, message: "r.py:2: no module named 'yaml.constructor'", detail: undefined });
    expect(e.hint).toMatch(/^add the package that provides yaml to requirements\.txt/);
  });

  it('gives a raising, hanging or crashing import its own code, the traceback as detail', () => {
    expect(importFailure({ kind: 'import', type: 'KeyError', message: "'x'", line: 4, traceback: 'T' }, 'm.py')).toMatchObject({
      code: 'import_failed',
      message: "m.py:4: the import raised KeyError: 'x'",
      detail: 'T',
    });
    expect(importFailure({ kind: 'import_timeout', message: 'the import did not finish within 10000 ms', traceback: 'File "m.py", line 7 in <module>' }, 'm.py')).toMatchObject({
      code: 'import_timeout',
      message: 'm.py: the import did not finish within 10000 ms',
      detail: 'File "m.py", line 7 in <module>',
    });
    expect(importFailure({ kind: 'import_crash', message: 'the import crashed: killed by SIGSEGV', traceback: null }, 'm.py')).toMatchObject({ code: 'import_crashed', detail: undefined });
  });

  it('is what checkCode throws for an import verdict; a cancelled check is an interruption', async () => {
    const verdict = JSON.stringify({ ok: false, error: { kind: 'import', type: 'ValueError', message: 'no', line: 1, traceback: 'T' } });
    await expect(checkCode(answering({ stdout: `${verdict}\n` }), 'img:1', 'x', undefined, 'f.py', { userId: 'u', installation: 'i' })).rejects.toMatchObject({ code: 'import_failed' });
    await expect(checkCode(answering({ exitCode: 137, cancelled: true }), 'img:1', 'x', undefined, 'f.py', { userId: 'u', installation: 'i' })).rejects.toBeInstanceOf(CancelledError);
  });
});
