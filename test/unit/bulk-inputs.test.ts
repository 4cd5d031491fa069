import { describe, expect, it } from 'vitest';
import { replicaHost } from '../../src/swarm/replica-address.js';
import { MAX_BULK_INPUTS, parseBulkInputs, parseConcurrency } from '../../src/core/invocations/bulk-io.js';
import { UsageError } from '../../src/base/errors.js';
import { MAX_REPLICAS, MAX_WORKERS, parseReplicas, parseWorkers } from '../../src/core/functions/warm-replicas.js';

/** The UsageError a parser throws, for its code and message. */
function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseBulkInputs', () => {
  it('takes one JSON document per line, in order, as sent', () => {
    expect(parseBulkInputs('{"a":1}\n[1, 2]\n"text"\n42\nnull\n', 'in.jsonl')).toEqual(['{"a":1}', '[1, 2]', '"text"', '42', 'null']);
  });

  it('skips blank lines, trims whitespace and CRLF, and needs no final newline', () => {
    expect(parseBulkInputs('\n  {"a":1}  \r\n\r\n   \n\t{"b":2}', 'in.jsonl')).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('names a bad line as file:LINE, counting blank lines', () => {
    const err = usageError(() => parseBulkInputs('{"a":1}\n\n{"b":\n{"c":3}\n', 'inputs.jsonl'));
    expect(err.message).toMatch(/^inputs\.jsonl:3: not valid JSON: /);
    expect(err.code).toBe('invalid_input');
    expect(err.hint).toMatch(/JSON Lines/);
  });

  it('refuses a file without inputs', () => {
    for (const text of ['', '\n', '  \n\r\n\t\n']) {
      const err = usageError(() => parseBulkInputs(text, 'stdin'));
      expect(err.message).toBe('stdin has no inputs');
      expect(err.code).toBe('invalid_input');
    }
  });

  it('refuses a line larger than a warm replica takes (16 MiB), naming it', () => {
    const big = `"${'x'.repeat(16 * 1024 * 1024)}"`;
    const err = usageError(() => parseBulkInputs(`1\n${big}\n`, 'big.jsonl'));
    expect(err.message).toBe('big.jsonl:2: the input is larger than 16 MiB');
    expect(err.code).toBe('input_too_large');
    expect(parseBulkInputs(`"${'x'.repeat(16 * 1024 * 1024 - 2)}"`, 'ok.jsonl')).toHaveLength(1);
  });

  it(`refuses more than ${MAX_BULK_INPUTS} inputs`, () => {
    const err = usageError(() => parseBulkInputs('1\n'.repeat(MAX_BULK_INPUTS + 1), 'many.jsonl'));
    expect(err.code).toBe('too_many_inputs');
    // Read as a stream, the run is refused at the first line past the limit (before anything runs, for a file).
    expect(err.message).toBe(`many.jsonl:${MAX_BULK_INPUTS + 1}: input ${MAX_BULK_INPUTS + 1} is beyond the limit of ${MAX_BULK_INPUTS} inputs a run`);
    expect(parseBulkInputs('1\n'.repeat(MAX_BULK_INPUTS), 'many.jsonl')).toHaveLength(MAX_BULK_INPUTS);
  });
});

describe('parseConcurrency', () => {
  it('is undefined when not given, and takes whole numbers from 1 to 1024', () => {
    expect(parseConcurrency(undefined)).toBeUndefined();
    expect(parseConcurrency('1')).toBe(1);
    expect(parseConcurrency('1024')).toBe(1024);
  });

  it.each(['0', '1025', '-1', '2.5', 'four', '', ' '])('refuses %j', (raw) => {
    const err = usageError(() => parseConcurrency(raw));
    expect(err.code).toBe('invalid_concurrency');
    expect(err.message).toBe(`invalid --concurrency ${raw}`);
  });
});

describe('parseReplicas', () => {
  it(`takes whole numbers from 0 (cold) to ${MAX_REPLICAS}`, () => {
    expect(parseReplicas('0', '--warm')).toBe(0);
    expect(parseReplicas('3', '--warm')).toBe(3);
    expect(parseReplicas(MAX_REPLICAS, '--warm')).toBe(MAX_REPLICAS);
  });

  // A blank argument (e.g. an unset shell variable) must not read as 0 and make the function cold.
  it.each(['-1', String(MAX_REPLICAS + 1), '1.5', 'two', '', '  '])('refuses %j, naming the flag', (raw) => {
    const err = usageError(() => parseReplicas(raw, 'replica count'));
    expect(err.code).toBe('invalid_replicas');
    expect(err.message).toBe(`invalid replica count ${raw}`);
  });
});

describe('parseWorkers', () => {
  it(`is undefined when not given, and takes whole numbers from 1 to ${MAX_WORKERS}`, () => {
    expect(parseWorkers(undefined)).toBeUndefined();
    expect(parseWorkers('1')).toBe(1);
    expect(parseWorkers(MAX_WORKERS)).toBe(MAX_WORKERS);
  });

  it.each(['0', String(MAX_WORKERS + 1), '2.5', 'many', ''])('refuses %j', (raw) => {
    const err = usageError(() => parseWorkers(raw));
    expect(err.code).toBe('invalid_workers');
  });
});

describe('replicaHost', () => {
  const noLocal = () => [];
  const local = () => ['192.168.1.20', '10.1.0.3'];

  it('uses the address the node advertises', () => {
    expect(replicaHost('unix:///var/run/docker.sock', '10.0.0.7', local)).toBe('10.0.0.7');
    expect(replicaHost('tcp://10.0.0.5:2376', '10.0.0.7', local)).toBe('10.0.0.7');
    expect(replicaHost('tcp://10.0.0.5:2376', 'fd00::7', local)).toBe('fd00::7');
  });

  it("uses the engine's host for a remote node without a usable address", () => {
    for (const address of [undefined, '', '0.0.0.0', '::']) {
      expect(replicaHost('tcp://10.0.0.5:2376', address, local)).toBe('10.0.0.5');
      expect(replicaHost('tcp://swarm.example.com:2375', address, local)).toBe('swarm.example.com');
      expect(replicaHost('https://swarm.example.com', address, local)).toBe('swarm.example.com');
    }
  });

  it("over ssh:// dials from the manager: the node address, else the manager's own loopback", () => {
    expect(replicaHost('ssh://deploy@swarm.example.com:2222', '10.0.0.7', local)).toBe('10.0.0.7');
    expect(replicaHost('ssh://deploy@swarm.example.com:2222', '127.0.0.1', local)).toBe('127.0.0.1');
    for (const address of [undefined, '', '0.0.0.0', '::']) expect(replicaHost('ssh://deploy@swarm.example.com:2222', address, local)).toBe('127.0.0.1');
  });

  it('gives an IPv6 engine address without brackets, as a socket host must be', () => {
    expect(replicaHost('tcp://[fd00::5]:2376', '0.0.0.0', local)).toBe('fd00::5');
  });

  it('uses a non-loopback local address for a local engine, loopback only when there is none', () => {
    for (const address of [undefined, '0.0.0.0', '127.0.0.1', '::1']) {
      expect(replicaHost('unix:///var/run/docker.sock', address, local)).toBe('192.168.1.20');
      expect(replicaHost('unix:///var/run/docker.sock', address, noLocal)).toBe('127.0.0.1');
    }
  });
});
