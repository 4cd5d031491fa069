import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { UsageError } from '../../src/base/errors.js';
import type { FunctionDeps } from '../../src/core/functions/lookup.js';
import { deployFunctions, rangeLabel, withPrefix } from '../../src/core/functions/bulk-deploy.js';
import type { NewRequest } from '../../src/db/requests-repo.js';
import type { Store } from '../../src/db/store.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';
import { createTestContext } from '../helpers/test-context.js';

const actor = { id: 'u1', name: 'alice' };
const CODE = 'def main(data):\n    return data\n';
const passed = JSON.stringify({ ok: true, format: 'main', entry: 'main', warnings: [{ message: 'a warning', line: 1 }] });
const syntaxError = JSON.stringify({ ok: false, error: { kind: 'syntax', type: 'SyntaxError', message: 'invalid syntax', line: 2, col: 5, text: 'x +', caret: '^' } });

/** Just the store calls a bulk deploy makes, in memory; `taken` names exist already. */
function fakeStore(taken: string[] = []) {
  const functions: string[] = [];
  const versions: Array<{ functionId: string; sha256: string }> = [];
  const requests: NewRequest[] = [];
  const repos = {
    meta: { installationId: async () => 'inst' },
    requests: { insert: async (r: NewRequest) => void requests.push(r) },
    functions: {
      current: async (_user: string, name: string) => (taken.includes(name) || functions.includes(name) ? { name } : undefined),
      insert: async (f: { name: string }) => void functions.push(f.name),
      insertVersion: async (v: { functionId: string; sha256: string }) => void versions.push(v),
      shasInUse: async (shas: string[]) => new Set(shas.filter((s) => versions.some((v) => v.sha256 === s))),
    },
  };
  const store = { ...repos, transaction: async <T>(fn: (tx: typeof repos) => Promise<T>) => fn(repos) } as unknown as Store;
  return { store, functions, requests };
}

function fakeDeps(store: Store, verdict: string) {
  const calls = { checks: 0, configsCreated: [] as string[], configsRemoved: [] as string[] };
  let config: { id: string; name: string } | undefined;
  const swarm = new FakeSwarm({
    runContainer: async () => {
      calls.checks++;
      return { exitCode: 0, stdout: `${verdict}\n`, stderr: '', timedOut: false };
    },
    findConfig: async () => config,
    createConfig: async (name) => {
      calls.configsCreated.push(name);
      config = { id: 'cfg1', name };
      return 'cfg1';
    },
    removeConfig: async (id) => {
      calls.configsRemoved.push(id);
      config = undefined;
      return true;
    },
  });
  let n = 0;
  const deps: FunctionDeps = {
    store,
    swarm,
    clock: { now: () => new Date('2026-01-01T00:00:00Z'), sleep: async () => {} },
    log: { debug: () => {} },
    newId: () => `id-${++n}`,
    sha256: () => 'f'.repeat(64),
    runtimeImage: async () => 'faasctl/runtime:test',
    progress: () => {},
  };
  return { deps, calls };
}

describe('deployFunctions', () => {
  it('checks and publishes the code once for every name, and reports a taken name as that item failing', async () => {
    const { store, functions, requests } = fakeStore(['p2']);
    const { deps, calls } = fakeDeps(store, passed);
    const result = await deployFunctions(deps, actor, { names: ['p1', 'p2', 'p3'], code: CODE, filename: 'f.py', memory: '128m' }, { concurrency: 2 });
    expect(calls.checks).toBe(1);
    expect(calls.configsCreated).toHaveLength(1);
    expect(calls.configsRemoved).toEqual([]);
    expect(result.warnings).toEqual([{ message: 'a warning', line: 1 }]);
    expect(result.items.map((i) => [i.name, i.ok, i.error?.code])).toEqual([
      ['p1', true, undefined],
      ['p2', false, 'name_taken'],
      ['p3', true, undefined],
    ]);
    expect(result.items[0]!.value).toMatchObject({ version: 1, limits: { memoryBytes: 128 * 1024 * 1024 }, changed: true });
    expect(functions.sort()).toEqual(['p1', 'p3']);
    expect(requests.map((r) => [r.type, r.status, r.functionName])).toEqual([
      ['fn.deploy', 'success', 'p1'],
      ['fn.deploy', 'success', 'p3'],
    ]);
  });

  it('rejects a bad file once, recording one request for the batch and storing nothing', async () => {
    const { store, functions, requests } = fakeStore();
    const { deps, calls } = fakeDeps(store, syntaxError);
    const deploy = deployFunctions(deps, actor, { names: ['p1', 'p2', 'p3'], code: 'def main(data):\n    x +\n', filename: 'bad.py' }, { concurrency: 4 });
    await expect(deploy).rejects.toMatchObject({ code: 'syntax_error', exitCode: 2, message: 'bad.py:2:5: SyntaxError: invalid syntax' });
    expect(calls.checks).toBe(1);
    expect(calls.configsCreated).toEqual([]);
    expect(functions).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ status: 'developer_error', type: 'fn.deploy', params: { name: 'p1..p3' } });
  });

  it('refuses bad flags before running the check', async () => {
    const { store } = fakeStore();
    const { deps, calls } = fakeDeps(store, passed);
    await expect(deployFunctions(deps, actor, { names: ['p1'], code: CODE, filename: 'f.py', memory: 'lots' }, { concurrency: 1 })).rejects.toThrow(UsageError);
    await expect(deployFunctions(deps, actor, { names: ['P1'], code: CODE, filename: 'f.py' }, { concurrency: 1 })).rejects.toThrow(/invalid function name/);
    expect(calls.checks).toBe(0);
  });

  it('removes the config it published when no item stored a version', async () => {
    const { store } = fakeStore(['p1', 'p2']);
    const { deps, calls } = fakeDeps(store, passed);
    const result = await deployFunctions(deps, actor, { names: ['p1', 'p2'], code: CODE, filename: 'f.py' }, { concurrency: 2 });
    expect(result.items.every((i) => !i.ok)).toBe(true);
    expect(calls.configsCreated).toHaveLength(1);
    expect(calls.configsRemoved).toEqual(['cfg1']);
  });

  it('fails an item whose follow-up step fails, and goes on with the rest', async () => {
    const { store } = fakeStore();
    const { deps } = fakeDeps(store, passed);
    const afterEach = async (d: { name: string }) => {
      if (d.name === 'p1') throw new Error('roll failed');
    };
    const result = await deployFunctions(deps, actor, { names: ['p1', 'p2'], code: CODE, filename: 'f.py' }, { concurrency: 1, afterEach });
    expect(result.items.map((i) => [i.name, i.ok, i.error?.message])).toEqual([
      ['p1', false, 'roll failed'],
      ['p2', true, undefined],
    ]);
  });
});

describe('bulk helpers', () => {
  it('matches names by a literal prefix ("_" is no wildcard)', () => {
    const rows = [{ name: 'load1' }, { name: 'load_2' }, { name: 'loadx' }, { name: 'other' }, { name: 'lo' }];
    expect(withPrefix(rows, 'load').map((r) => r.name)).toEqual(['load1', 'load_2', 'loadx']);
    expect(withPrefix(rows, 'load_').map((r) => r.name)).toEqual(['load_2']);
  });

  it('labels a batch by its first and last name', () => {
    expect(rangeLabel(['p1', 'p2', 'p3'])).toBe('p1..p3');
    expect(rangeLabel(['p1'])).toBe('p1');
  });
});

describe('fn bulk flags', () => {
  const argv = (...args: string[]) => ['node', 'faasctl', ...args];
  const usage = async (...args: string[]) => {
    const t = createTestContext();
    const code = await main(argv(...args), t.ctx);
    return { code, lines: t.stderr().split('\n'), stdout: t.stdout() };
  };

  it('answers a misused --bulk or --prefix with exit 2, one line and a hint, before touching anything', async () => {
    for (const [args, message] of [
      [['fn', 'deploy', 'f.py', '--bulk', '3'], '--bulk needs --prefix P'],
      [['fn', 'deploy', 'f.py', '--prefix', 'p'], '--prefix needs --bulk N'],
      [['fn', 'deploy', 'f.py', '--bulk', '3', '--prefix', 'p', '--name', 'x'], 'give either --name or --bulk N --prefix P, not both'],
      [['fn', 'deploy', 'f.py', '--bulk', '3.5', '--prefix', 'p'], 'invalid --bulk 3.5'],
      [['fn', 'deploy', 'f.py', '--bulk', '3', '--prefix', '9p'], 'invalid prefix "9p"'],
      [['fn', 'update', 'f.py', 'extra', '--prefix', 'p'], 'with --prefix, give only the FILE'],
      [['fn', 'delete'], 'fn delete needs a NAME (or --prefix P)'],
      [['fn', 'delete', 'one', '--prefix', 'p'], 'give either a NAME or --prefix P, not both'],
    ] as const) {
      const r = await usage(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.lines[0]).toBe(`error: ${message}`);
      expect(r.lines[1]).toMatch(/^hint: /);
      expect(r.lines[2]).toBe('');
      expect(r.stdout).toBe('');
    }
  });

  it('gives the usage error as one JSON document with --json', async () => {
    const t = createTestContext();
    expect(await main(argv('--json', 'fn', 'deploy', 'f.py', '--bulk', '2'), t.ctx)).toBe(2);
    expect(JSON.parse(t.stdout()).error).toMatchObject({ code: 'usage', message: '--bulk needs --prefix P', exitCode: 2 });
  });
});
