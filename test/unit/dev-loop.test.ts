import { describe, expect, it } from 'vitest';
import { EXIT, UsageError } from '../../src/base/errors.js';
import { noFrame } from '../../src/core/invocations/local-run.js';
import { functionSkeleton } from '../../src/core/functions/skeleton.js';
import { localRunSpec, LOCAL_RUN_COMPONENT } from '../../src/swarm/local-run-spec.js';
import { buildInvocationServiceSpec, CODE_PATH, INPUT_PATH, RUNTIME_UID } from '../../src/swarm/sandbox.js';

const input = {
  runId: 'r-1',
  image: 'faasctl/runtime-python:x',
  nonce: 'n0nce-123456',
  entry: 'main',
  timeoutMs: 5000,
  memoryBytes: 128 * 1024 * 1024,
  nanoCpus: 500_000_000,
  outputLimit: 1024,
  killAfterMs: 35_000,
  env: { MODE: 'test', FAASCTL_NONCE: 'forged' },
  code: 'def main(d):\n    return d\n',
  input: '{"a":1}',
};

describe('localRunSpec', () => {
  it('has the sandbox of a cold invocation', () => {
    const spec = localRunSpec(input);
    const service = buildInvocationServiceSpec({
      ...input,
      requestId: 'r-1',
      installation: 'local',
      code: { configId: '', configName: '' },
      input: { configId: '', configName: '' },
      labels: { functionId: '', functionName: '', version: 0, userId: '' },
    }).TaskTemplate.ContainerSpec;
    expect(spec.cmd).toEqual(['run']);
    expect(spec.env).toEqual(service.Env);
    expect(spec.env).toContain('FAASCTL_NONCE=n0nce-123456');
    expect(spec.env).not.toContain('FAASCTL_NONCE=forged');
    expect(spec.env).toContain(`FAASCTL_CODE_FILE=${CODE_PATH}`);
    expect(spec).toMatchObject({
      user: `${RUNTIME_UID}:${RUNTIME_UID}`,
      readOnlyRoot: true,
      tmpfs: { '/tmp': expect.any(Number) },
      memoryBytes: input.memoryBytes,
      nanoCpus: input.nanoCpus,
      pidsLimit: 128,
      timeoutMs: 35_000,
      filesVolume: '/faas',
    });
    expect(spec.files).toEqual({ [CODE_PATH]: input.code, [INPUT_PATH]: input.input });
    expect(Object.keys(spec.files).every((p) => p.startsWith('/faas/'))).toBe(true);
    expect(spec.labels['io.faasctl.component']).toBe(LOCAL_RUN_COMPONENT);
  });
});

describe('functionSkeleton', () => {
  it('names the files after the function and gives an input the code accepts', () => {
    const s = functionSkeleton('hello');
    expect(s.codeFile).toBe('hello.py');
    expect(s.inputFile).toBe('hello.input.json');
    expect(s.code).toContain('def main(data):');
    expect(s.code).toContain('madhat_func(input_data, output_data)');
    expect(JSON.parse(s.input)).toMatchObject({ name: 'world' });
  });

  it('validates the name like fn deploy', () => {
    expect(() => functionSkeleton('Bad Name')).toThrow(UsageError);
    expect(() => functionSkeleton('../x')).toThrow(/invalid function name/);
  });
});

describe('noFrame', () => {
  const base = { output: '', outputTruncated: false, node: null, finishedAt: new Date(0), durationMs: 2000 };
  it("maps how the container ended to invoke's exit codes", () => {
    expect(noFrame(base, { exitCode: 137, timedOut: false, cancelled: true }, undefined, 1000).exitCode).toBe(EXIT.interrupted);
    expect(noFrame(base, { exitCode: 137, timedOut: true }, undefined, 1000).exitCode).toBe(EXIT.timeout);
    expect(noFrame(base, { exitCode: 0, timedOut: false }, 'garbage', 1000).exitCode).toBe(EXIT.platform);
    const ended = noFrame(base, { exitCode: 2, timedOut: false }, undefined, 1000);
    expect(ended).toMatchObject({ exitCode: EXIT.platform, completion: { status: 'system_error' } });
    expect(ended.message).toContain('exit code 2');
  });
});
