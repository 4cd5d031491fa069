import { describe, expect, it } from 'vitest';
import { EXIT, UsageError } from '../../src/base/errors.js';
import { DEFAULT_LIMITS, formatBytes, formatLimits, parseCpus, parseEnv, parseMemory, parseTimeout, resolveLimits } from '../../src/core/functions/limits.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** The error `fn` throws, which must be a UsageError (exit 2) with a hint. */
function usageErrorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const e = err as UsageError;
    expect(e.exitCode).toBe(EXIT.usage);
    expect(e.exitCode).toBe(2);
    expect(e.hint).toBeTruthy();
    return e;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('parseMemory', () => {
  it.each([
    ['256m', 256 * MiB],
    ['256M', 256 * MiB],
    ['256MiB', 256 * MiB],
    ['256 mb', 256 * MiB],
    [' 1g ', GiB],
    ['0.5g', 512 * MiB],
    ['32768k', 32 * MiB],
    [String(32 * MiB), 32 * MiB],
    ['32m', 32 * MiB],
    ['64g', 64 * GiB],
    ['64GiB', 64 * GiB],
  ])('%s is %i bytes', (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  it.each(['31m', String(32 * MiB - 1), '65g', '64.01g', '0', '', 'lots', '1t', '-1g', '1e3m', '256 m b', 'm'])('rejects %j', (text) => {
    const e = usageErrorOf(() => parseMemory(text));
    expect(e.message).toBe(`invalid --memory "${text}"`);
    expect(e.hint).toMatch(/32m to 64g/);
  });
});

describe('parseCpus', () => {
  it.each([
    ['1', 1_000_000_000],
    ['0.5', 500_000_000],
    ['0.01', 10_000_000],
    ['256', 256_000_000_000],
    [' 2 ', 2_000_000_000],
    ['1.333', 1_333_000_000],
  ])('%s is %i nano-CPUs', (text, nano) => {
    expect(parseCpus(text)).toBe(nano);
  });

  it.each(['0', '0.009', '256.01', '257', '-1', '', ' ', '1e2', 'one', '.5', '0x10', 'Infinity'])('rejects %j', (text) => {
    const e = usageErrorOf(() => parseCpus(text));
    expect(e.message).toBe(`invalid --cpus "${text}"`);
  });
});

describe('parseTimeout', () => {
  it.each([
    ['100ms', 100],
    ['30s', 30_000],
    ['0.5s', 500],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['60m', 3_600_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseTimeout(text)).toBe(ms);
  });

  it.each(['99ms', '0s', '61m', '3600001ms', '2h', '1d'])('rejects %j as out of range', (text) => {
    const e = usageErrorOf(() => parseTimeout(text));
    expect(e.message).toBe(`invalid --timeout "${text}"`);
    expect(e.hint).toMatch(/100ms to 1h/);
  });

  it.each(['30', 'soon', '5 minutes', ''])('rejects %j as not a duration, naming the flag', (text) => {
    expect(usageErrorOf(() => parseTimeout(text)).message).toBe(`invalid --timeout "${text}"`);
  });
});

describe('resolveLimits', () => {
  it('uses the defaults when no flag is given', () => {
    expect(resolveLimits({})).toEqual(DEFAULT_LIMITS);
    expect(DEFAULT_LIMITS).toEqual({ memoryBytes: 256 * MiB, nanoCpus: 1_000_000_000, timeoutMs: 30_000 });
  });

  it('overrides only the flags given, over the base', () => {
    const base = { memoryBytes: GiB, nanoCpus: 2_000_000_000, timeoutMs: 60_000 };
    expect(resolveLimits({ cpus: '0.5' }, base)).toEqual({ ...base, nanoCpus: 500_000_000 });
    expect(resolveLimits({ memory: '128m', timeout: '5s' }, base)).toEqual({ memoryBytes: 128 * MiB, nanoCpus: 2_000_000_000, timeoutMs: 5000 });
  });

  it('throws for a bad flag', () => {
    usageErrorOf(() => resolveLimits({ memory: '1m' }));
  });
});

describe('parseEnv', () => {
  it('parses KEY=VALUE pairs, keeping "=" and empty values', () => {
    expect(parseEnv(['MODE=fast', 'URL=a=b=c', 'EMPTY=', '_x9=1'])).toEqual({ MODE: 'fast', URL: 'a=b=c', EMPTY: '', _x9: '1' });
    expect(parseEnv(undefined)).toEqual({});
  });

  it('sets over the base, and `KEY` without "=" removes it, without touching the base', () => {
    const base = { A: '1', B: '2' };
    expect(parseEnv(['B', 'C=3', 'A=one'], base)).toEqual({ A: 'one', C: '3' });
    expect(parseEnv(['GONE'], base)).toEqual(base);
    expect(base).toEqual({ A: '1', B: '2' });
  });

  it.each(['FAASCTL_NONCE=x', 'FAASCTL_ENTRY=evil', 'FAASCTL_X', 'FAASCTL_='])('rejects the reserved %j', (pair) => {
    const e = usageErrorOf(() => parseEnv([pair]));
    expect(e.message).toMatch(/FAASCTL_\* variables are reserved/);
  });

  it.each(['=value', '1ABC=x', 'A-B=x', 'A B=x', 'ÄB=x', '', `${'K'.repeat(129)}=x`])('rejects the invalid key in %j', (pair) => {
    const e = usageErrorOf(() => parseEnv([pair]));
    expect(e.message).toBe(`invalid --env "${pair}"`);
  });

  it('accepts a 128-character key', () => {
    expect(Object.keys(parseEnv([`${'K'.repeat(128)}=x`]))).toEqual(['K'.repeat(128)]);
  });

  it('caps the whole environment at 64 KiB', () => {
    expect(() => parseEnv([`A=${'x'.repeat(60 * 1024)}`])).not.toThrow();
    const e = usageErrorOf(() => parseEnv([`A=${'x'.repeat(40 * 1024)}`, `B=${'x'.repeat(40 * 1024)}`]));
    expect(e.message).toMatch(/64 KiB/);
    usageErrorOf(() => parseEnv([], { BIG: 'x'.repeat(65 * 1024) }));
  });
});

describe('formatBytes and formatLimits', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [MiB, '1 MiB'],
    [256 * MiB, '256 MiB'],
    [1536 * MiB, '1536 MiB'],
    [GiB, '1 GiB'],
    [64 * GiB, '64 GiB'],
  ])('%i is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('formats the defaults', () => {
    expect(formatLimits(DEFAULT_LIMITS)).toBe('256 MiB memory, 1 CPU, 30 s timeout');
  });
});
