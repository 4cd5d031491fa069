// The runtime image's tag: a hash of the whole build context, the runtime package's modules
// included, so changing any module gives a new image.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contextFiles, contextHash, runtimeDir, runtimeImageRef } from '../../src/runtime/python.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function context(): string {
  dir = mkdtempSync(join(tmpdir(), 'faasctl-context-'));
  mkdirSync(join(dir, 'pkg'));
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(dir, 'pkg', '__main__.py'), 'print(1)\n');
  writeFileSync(join(dir, 'pkg', 'protocol.py'), 'X = 1\n');
  return dir;
}

describe('runtime image tag', () => {
  it('lists the runtime package recursively, without bytecode or dotfiles', () => {
    const files = contextFiles(runtimeDir());
    expect(files).toContain('Dockerfile');
    expect(files).toContain('faasctl_runtime/__main__.py');
    expect(files).toContain('faasctl_runtime/protocol.py');
    expect(files.filter((f) => f.includes('__pycache__') || /(^|\/)\./.test(f))).toEqual([]);
  });

  it('changes when a module inside the package changes, not for __pycache__ or dotfiles', async () => {
    const root = context();
    const before = await contextHash(root);
    mkdirSync(join(root, 'pkg', '__pycache__'));
    writeFileSync(join(root, 'pkg', '__pycache__', 'protocol.cpython-312.pyc'), 'bytecode');
    writeFileSync(join(root, 'pkg', '.swp'), 'editor');
    expect(await contextHash(root)).toBe(before);
    writeFileSync(join(root, 'pkg', 'protocol.py'), 'X = 2\n');
    expect(await contextHash(root)).not.toBe(before);
  });

  it('tags faasctl/runtime-python by the first 12 hex digits, under the registry when given', async () => {
    expect(await runtimeImageRef()).toMatch(/^faasctl\/runtime-python:[0-9a-f]{12}$/);
    expect(await runtimeImageRef('reg:5000/')).toMatch(/^reg:5000\/faasctl\/runtime-python:[0-9a-f]{12}$/);
  });
});
