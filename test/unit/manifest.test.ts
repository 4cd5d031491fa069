import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/cli/env-file.js';
import { DEFAULT_STORED_POLICY, diffFunction, durationText, type FunctionSpec, memoryText, updateInput } from '../../src/core/functions/manifest.js';
import { diffSchedule, type ScheduleFileSpec } from '../../src/core/schedules/manifest.js';
import type { ScheduleRow } from '../../src/db/schedules-repo.js';
import { DEFAULT_LIMITS } from '../../src/core/functions/limits.js';
import type { CurrentFunction } from '../../src/db/functions-repo.js';

const spec = (over: Partial<FunctionSpec> = {}): FunctionSpec => ({
  name: 'sum',
  code: 'def main(d):\n    return 1\n',
  sha256: 'x',
  filename: 'sum.py',
  limits: DEFAULT_LIMITS,
  env: {},
  secrets: [],
  dependencies: null,
  placement: { constraints: [], spread: [] },
  warm: { replicas: 0, workers: 2 },
  apt: [],
  policy: DEFAULT_STORED_POLICY,
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

  it('compares code by its sha256 (a zip as a whole), Debian packages as a set, and the policy without a new version', () => {
    expect(diffFunction(spec({ sha256: 'y' }), deployed()).fields).toEqual(['code']);
    expect(diffFunction(spec({ apt: ['a', 'b'] }), deployed({ apt: 'b\na\n' })).action).toBe('unchanged');
    expect(diffFunction(spec({ apt: ['a'] }), deployed({ apt: 'b' })).fields).toEqual(['apt +a -b']);
    const policy = diffFunction(spec({ policy: { ...DEFAULT_STORED_POLICY, retries: 5, maxEventAgeMs: 3_600_000 } }), deployed(), { ...DEFAULT_STORED_POLICY, maxConcurrency: 2 });
    expect(policy).toMatchObject({ action: 'update', newVersion: false, fields: ['retries default → 5', 'maxEventAge default → 1h', 'maxConcurrency 2 → default'] });
  });

  it('writes sizes and durations as a file would, exactly', () => {
    expect([memoryText(256 * 1024 ** 2), memoryText(1024 ** 3), memoryText(1000)]).toEqual(['256m', '1g', '1000b']);
    expect([durationText(30_000), durationText(120_000), durationText(1500), durationText(7_200_000)]).toEqual(['30s', '2m', '1500ms', '2h']);
  });
});

describe('functions file: schedules', () => {
  const want = (over: Partial<ScheduleFileSpec> = {}): ScheduleFileSpec => ({
    name: 'nightly',
    fn: 'etl',
    kind: 'cron',
    expression: '0 3 * * *',
    tz: 'UTC',
    data: '{"a":1}',
    startAt: null,
    endAt: null,
    overlap: 'skip',
    catchUp: 'none',
    paused: false,
    ...over,
  });
  const row = (over: Partial<ScheduleRow> = {}): ScheduleRow => ({
    id: 's',
    userId: 'u',
    functionId: 'f',
    functionName: 'etl',
    name: 'nightly',
    kind: 'cron',
    expression: '0 3 * * *',
    tz: 'UTC',
    data: '{ "a": 1 }',
    startAt: null,
    endAt: null,
    anchorAt: new Date(0),
    overlap: 'skip',
    catchUp: 'none',
    paused: false,
    nextSlotAt: new Date(0),
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...over,
  });

  it('is unchanged when each field matches (input compared as JSON, not as text)', () => {
    expect(diffSchedule(want(), row())).toMatchObject({ action: 'unchanged', fields: [], spec: {} });
  });

  it('updates only what differs: an input change gives no timing (no re-anchoring), a left-out end clears it', () => {
    expect(diffSchedule(want({ data: '2' }), row())).toMatchObject({ action: 'update', fields: ['data'], spec: { data: '2' } });
    expect(diffSchedule(want(), row({ endAt: new Date('2030-01-01T00:00:00Z') }))).toMatchObject({ fields: ['end 2030-01-01T00:00:00.000Z → none'], spec: { end: null } });
    expect(diffSchedule(want({ kind: 'every', expression: '7200000' }), row())).toMatchObject({ fields: ['cron "0 3 * * *" → every 2h'], spec: { every: '2h' } });
    expect(diffSchedule(want({ paused: true }), row())).toMatchObject({ fields: ['pause'], spec: {}, paused: true });
  });

  it('creates with the whole spec, as schedule create takes it', () => {
    expect(diffSchedule(want({ tz: 'Europe/Paris', overlap: 'queue' }), undefined)).toMatchObject({
      action: 'create',
      spec: { fn: 'etl', cron: '0 3 * * *', tz: 'Europe/Paris', data: '{"a":1}', overlap: 'queue', catchUp: 'none' },
    });
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
