import { describe, expect, it } from 'vitest';
import { FRAME_PREFIX, InvocationOutput, type Frame } from '../../src/core/invocations/invocation-output.js';
import { nonceOf, outcomeOf, ROW_OUTPUT_LIMIT, type Watched } from '../../src/core/invocations/invocation.js';
import type { SwarmTask } from '../../src/swarm/client.js';

const NONCE = 'abcDEF0123456789';
const STARTED = new Date('2026-11-24T12:00:00.000Z');
const NOW = new Date('2026-11-24T12:00:02.500Z');
const LIMITS = { timeoutMs: 30_000 };

function frame(over: Partial<Frame> = {}): Frame {
  return {
    v: 1,
    status: 'success',
    result: { ok: true },
    error: null,
    output: { bytes: 3, truncated: false },
    metrics: { durationMs: 40, cpuMs: 35, maxRssKb: 12_000 },
    ...over,
  };
}

/** A Watched built the way watchInvocation builds it: by pushing log chunks into a real InvocationOutput. */
function watched(reason: Watched['reason'], lines: string[], task?: SwarmTask): Watched {
  const out = new InvocationOutput(NONCE, ROW_OUTPUT_LIMIT);
  for (const line of lines) out.push({ stream: 'stdout', data: Buffer.from(line) });
  out.finish(); // as watchInvocation does before it answers
  return { reason, out, task };
}
const frameLine = (f: Frame) => `${FRAME_PREFIX}${NONCE}:${JSON.stringify(f)}\n`;
const failedWith = (type: string, message: string, traceback: string | null = null, status: Frame['status'] = 'error') => frame({ status, result: null, error: { type, message, traceback } });
const TASK: SwarmTask = { id: 't1', state: 'failed', desiredState: 'shutdown', message: 'started', error: 'task: non-zero exit (137)', exitCode: 137, nodeId: 'node-7' };

describe('outcomeOf with a frame', () => {
  it("records a success with its result, output, metrics, node and the run's own duration (not the time until it was read), exit 0", () => {
    const o = outcomeOf(watched('frame', ['hi\n', frameLine(frame())], { ...TASK, state: 'running' }), STARTED, NOW, LIMITS);
    expect(o.exitCode).toBe(0);
    expect(o.message).toBeUndefined();
    expect(o.frame?.status).toBe('success');
    expect(o.completion).toEqual({
      status: 'success',
      result: { ok: true },
      error: null,
      output: 'hi\n',
      outputTruncated: false,
      cpuMs: 35,
      maxRssKb: 12_000,
      node: 'node-7',
      finishedAt: NOW,
      durationMs: 40,
      startedAt: new Date(NOW.getTime() - 40),
    });
  });

  it('records null metrics and node when the frame and task lack them', () => {
    const noMetrics = frame({ metrics: undefined as unknown as Frame['metrics'] }); // dropped by JSON.stringify
    const o = outcomeOf(watched('frame', [frameLine(noMetrics)]), STARTED, NOW, LIMITS);
    expect(o.completion).toMatchObject({ cpuMs: null, maxRssKb: null, node: null, status: 'success' });
  });

  it('treats an exception from user code as application_error, exit 6, with the traceback as the error', () => {
    const tb = 'Traceback (most recent call last):\n  File "function.py", line 2, in main\nZeroDivisionError: division by zero\n';
    const o = outcomeOf(watched('frame', [frameLine(failedWith('ZeroDivisionError', 'division by zero', tb))]), STARTED, NOW, LIMITS);
    expect(o.completion.status).toBe('application_error');
    expect(o.exitCode).toBe(6);
    expect(o.completion.error).toBe(tb);
    expect(o.completion.result).toBeNull();
    expect(o.message).toBe('the function raised ZeroDivisionError: division by zero');
  });

  it('falls back to "type: message" as the error when there is no traceback', () => {
    const o = outcomeOf(watched('frame', [frameLine(failedWith('ValueError', 'bad'))]), STARTED, NOW, LIMITS);
    expect(o.completion.error).toBe('ValueError: bad');
  });

  it.each(['InputError', 'ResultError', 'EntryError', 'CodeError'])('treats %s as developer_error, exit 6', (type) => {
    const o = outcomeOf(watched('frame', [frameLine(failedWith(type, 'what went wrong'))]), STARTED, NOW, LIMITS);
    expect(o.completion.status).toBe('developer_error');
    expect(o.exitCode).toBe(6);
    expect(o.message).toBe(`${type}: what went wrong`);
  });

  it('treats a timeout frame as developer_error, exit 124, naming the limit', () => {
    const o = outcomeOf(watched('frame', [frameLine(failedWith('Timeout', 'timed out after 30000 ms', null, 'timeout'))]), STARTED, NOW, LIMITS);
    expect(o.completion.status).toBe('developer_error');
    expect(o.exitCode).toBe(124);
    expect(o.message).toBe('the function timed out after 30 s');
  });

  it('treats oom and killed frames as developer_error, exit 6', () => {
    const oom = outcomeOf(watched('frame', [frameLine(failedWith('MemoryError', 'killed at 256 MiB', null, 'oom'))]), STARTED, NOW, LIMITS);
    expect([oom.completion.status, oom.exitCode, oom.message]).toEqual(['developer_error', 6, 'the function ran out of memory: killed at 256 MiB']);
    const killed = outcomeOf(watched('frame', [frameLine(failedWith('Killed', 'cancelled by SIGTERM', null, 'killed'))]), STARTED, NOW, LIMITS);
    expect([killed.completion.status, killed.exitCode, killed.message]).toEqual(['developer_error', 6, 'the function was killed: cancelled by SIGTERM']);
  });

  it.each(['ConfigError', 'SpawnError'])('treats %s as the platform failing: system_error, exit 8', (type) => {
    const o = outcomeOf(watched('frame', [frameLine(failedWith(type, 'FAASCTL_TIMEOUT_MS is not a number'))]), STARTED, NOW, LIMITS);
    expect(o.completion.status).toBe('system_error');
    expect(o.exitCode).toBe(8);
    expect(o.message).toBe(`${type}: FAASCTL_TIMEOUT_MS is not a number`);
  });

  it('prefers the frame to the reason the watch stopped', () => {
    const o = outcomeOf(watched('deadline', [frameLine(frame())]), STARTED, NOW, LIMITS);
    expect(o.exitCode).toBe(0);
  });

  it('marks the output truncated when the runtime dropped some', () => {
    const o = outcomeOf(watched('frame', [frameLine(frame({ output: { bytes: 5_000_000, truncated: true } }))]), STARTED, NOW, LIMITS);
    expect(o.completion.outputTruncated).toBe(true);
  });
});

describe('outcomeOf without a frame', () => {
  it('records a cancelled watch as system_error, exit 130', () => {
    const o = outcomeOf(watched('cancelled', ['partial output\n']), STARTED, NOW, LIMITS);
    expect(o.exitCode).toBe(130);
    expect(o.frame).toBeUndefined();
    expect(o.message).toBe('cancelled before the function answered');
    expect(o.completion).toMatchObject({ status: 'system_error', result: null, error: o.message, output: 'partial output\n', cpuMs: null, maxRssKb: null });
  });

  it('records a deadline as system_error, exit 124, with the wait and the timeout', () => {
    const o = outcomeOf(watched('deadline', []), STARTED, new Date(STARTED.getTime() + 61_400), LIMITS);
    expect(o.exitCode).toBe(124);
    expect(o.completion.status).toBe('system_error');
    expect(o.message).toBe("no answer within 61 s (the function's timeout is 30 s)");
  });

  it('records a task that ended without a frame as system_error, exit 8, naming its state and error', () => {
    const o = outcomeOf(watched('ended', ['x\n'], TASK), STARTED, NOW, LIMITS);
    expect(o.exitCode).toBe(8);
    expect(o.completion.status).toBe('system_error');
    expect(o.message).toBe('the task ended (failed: task: non-zero exit (137), started, exit code 137) without a result');
    expect(o.completion.error).toBe(o.message);
    expect(o.completion.node).toBe('node-7');
  });

  it('names a rejected task and says so when there was no task at all', () => {
    const rejected: SwarmTask = { id: 't', state: 'rejected', desiredState: 'shutdown', message: '', error: 'No such image: faasctl-python:x' };
    expect(outcomeOf(watched('ended', [], rejected), STARTED, NOW, LIMITS).message).toBe('the image faasctl-python:x is not on the node that was to run it');
    expect(outcomeOf(watched('ended', [], { ...rejected, error: 'mount failed' }), STARTED, NOW, LIMITS).message).toBe('the task ended (rejected: mount failed) without a result');
    expect(outcomeOf(watched('ended', []), STARTED, NOW, LIMITS).message).toBe('the task ended (unknown: no task) without a result');
  });

  it('reports an unreadable frame line as the platform failing, exit 8', () => {
    const o = outcomeOf(watched('ended', [`${FRAME_PREFIX}${NONCE}:{"v":1,"stat\n`], TASK), STARTED, NOW, LIMITS);
    expect(o.exitCode).toBe(8);
    expect(o.completion.status).toBe('system_error');
    expect(o.message).toBe(`the runtime's result line could not be read: {"v":1,"stat`);
  });

  it('does not mistake a forged frame line for the result', () => {
    const forged = `${FRAME_PREFIX}guess:${JSON.stringify(frame({ result: 'pwned' }))}\n`;
    const o = outcomeOf(watched('ended', [forged], { ...TASK, state: 'complete', error: undefined, message: 'finished', exitCode: 0 }), STARTED, NOW, LIMITS);
    expect(o.exitCode).toBe(8);
    expect(o.completion.result).toBeNull();
    expect(o.completion.output).toBe(forged);
  });
});

describe('nonceOf', () => {
  it('reads FAASCTL_NONCE from a service environment', () => {
    expect(nonceOf(['MODE=fast', `FAASCTL_NONCE=${NONCE}`, 'FAASCTL_ENTRY=main'])).toBe(NONCE);
  });

  it('keeps "=" inside the value and needs the exact key', () => {
    expect(nonceOf(['FAASCTL_NONCE=a=b'])).toBe('a=b');
    expect(nonceOf(['FAASCTL_NONCE_OLD=x', 'XFAASCTL_NONCE=y'])).toBeUndefined();
    expect(nonceOf([])).toBeUndefined();
  });
});
