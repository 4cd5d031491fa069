import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/cli/env-file.js';
import { diffFunction, durationText, type FunctionSpec, memoryText, updateInput } from '../../src/core/functions/manifest.js';
import { DEFAULT_LIMITS } from '../../src/core/functions/limits.js';
import type { CurrentFunction } from '../../src/db/functions-repo.js';

const spec = (over: Partial<FunctionSpec> = {}): FunctionSpec => ({
  name: 'sum',
  code: 'def main(d):\n    return 1\n',
  filename: 'sum.py',
  limits: DEFAULT_LIMITS,
  env: {},
  secrets: [],
  dependencies: null,
  placement: { constraints: [], spread: [] },
  warm: { replicas: 0, workers: 2 },
  ...over,
});

const deployed = (over: Partial<CurrentFunction['current']> = {}, warm = { warmReplicas: 0, warmWorkers: 2 }): CurrentFunction =>
  ({
    id: 'f',
    userId: 'u',
    name: 'sum',
    currentVersion: 1,
    ...warm,
    current: {
      functionId: 'f',
      version: 1,
      code: 'def main(d):\n    return 1\n',
      sha256: 'x',
      entry: 'main',
      format: 'main',
      ...DEFAULT_LIMITS,
      env: {},
      secrets: [],
      image: null,
      requirements: null,
      placement: { constraints: [], spread: [] },
      createdAt: new Date(),
      ...over,
    },
  }) as CurrentFunction;

describe('functions file: the difference with what is deployed', () => {
  it('is unchanged when every field matches, entry and flavour left to the code', () => {
    expect(diffFunction(spec(), deployed())).toMatchObject({ action: 'unchanged', fields: [], newVersion: false });
  });

  it('names each difference; a file leaving a field out means its default, not the current value', () => {
    const d = diffFunction(spec({ env: { A: '1', B: '2' }, secrets: ['k'] }), deployed({ env: { B: '3', C: '4' }, timeoutMs: 60_000, secrets: ['old'] }));
    expect(d).toMatchObject({ action: 'update', newVersion: true });
    expect(d.fields).toEqual(['timeout 60 s → 30 s', 'env +A -C ~B', 'secrets +k -old']);
  });

  it('changes only the warm replicas without a new version', () => {
    expect(diffFunction(spec({ warm: { replicas: 2, workers: 2 } }), deployed())).toMatchObject({ action: 'update', fields: ['warm 0 → 2'], newVersion: false });
  });

  it('spells every removal out for the update (env keys, secrets) and keeps equal requirements', () => {
    const input = updateInput(spec({ env: { A: '1' }, secrets: ['k'] }), deployed({ env: { C: '4' }, secrets: ['old'], requirements: 'requests\n' }));
    expect(input.env).toEqual(['C', 'A=1']);
    expect(input.secrets).toEqual(['k', '-old']);
    expect(input.dependencies).toBeNull(); // none in the file: the version's go
    expect(updateInput(spec({ dependencies: { requirements: 'requests', source: 'f', baseDir: '/' } }), deployed({ requirements: 'requests\n' })).dependencies).toBeUndefined();
  });

  it('writes sizes and durations as a file would, exactly', () => {
    expect([memoryText(256 * 1024 ** 2), memoryText(1024 ** 3), memoryText(1000)]).toEqual(['256m', '1g', '1000b']);
    expect([durationText(30_000), durationText(120_000), durationText(1500), durationText(7_200_000)]).toEqual(['30s', '2m', '1500ms', '2h']);
  });
});

describe('env files', () => {
  it('reads KEY=VALUE lines as written, skipping comments and blank lines', () => {
    expect(parseEnvFile('# c\n\nA=1\n  B=x=y\nC="q"\r\n', 'f.env')).toEqual(['A=1', 'B=x=y', 'C="q"']);
  });

  it('names file:line:col of a line that is not a pair', () => {
    expect(() => parseEnvFile('A=1\n  oops\n', 'f.env')).toThrow(/^f\.env:2:3: expected KEY=VALUE/);
    expect(() => parseEnvFile('1A=2\n', 'f.env')).toThrow(/^f\.env:1:1: /);
  });
});
