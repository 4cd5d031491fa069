import { describe, expect, it } from 'vitest';
import { bulkExitCode, bulkNames, runBulk } from '../../src/base/bulk.js';
import { formatDuration, parseDuration, parseSince } from '../../src/base/durations.js';
import { ConflictError, UsageError } from '../../src/base/errors.js';
import { validateFunctionName, validatePassword, validatePrefix, validateUserName } from '../../src/base/names.js';
import { hashPassword, verifyPassword } from '../../src/core/users/passwords.js';

describe('names', () => {
  it('accepts lower-case ASCII names and rejects everything that could break a Docker name or a query', () => {
    expect(validateUserName('alice_2-b')).toBe('alice_2-b');
    expect(validateFunctionName('f'.repeat(48))).toHaveLength(48);
    for (const bad of ['', ' ', 'a b', 'Alice', '1abc', '-a', 'a'.repeat(33), "a'b", 'a;b', 'zoë', 'a.b', undefined, 42]) {
      expect(() => validateUserName(bad), String(bad)).toThrow(UsageError);
    }
    expect(() => validatePrefix('p'.repeat(25))).toThrow(UsageError);
  });

  it('bounds passwords', () => {
    expect(() => validatePassword('short')).toThrow(/at least 8/);
    expect(() => validatePassword('x'.repeat(1025))).toThrow(/at most 1024/);
  });
});

describe('durations', () => {
  it('parses units and --since', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(() => parseDuration('5 minutes')).toThrow(UsageError);
    const now = new Date('2026-11-24T12:00:00Z');
    expect(parseSince('2h', now).toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(parseSince('2026-11-01T00:00:00Z', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow(UsageError);
    expect(() => parseSince('yesterday', now, '--before')).toThrow(/invalid --before "yesterday"/);
  });
  it('formats a duration in the largest unit that divides it, as parseDuration reads it back', () => {
    for (const [ms, text] of [
      [30 * 86_400_000, '30d'],
      [14 * 86_400_000, '2w'],
      [36 * 3_600_000, '36h'],
      [90_000, '90s'],
      [1500, '1500ms'],
    ] as const) {
      expect(formatDuration(ms)).toBe(text);
      expect(parseDuration(text)).toBe(ms);
    }
  });
});

describe('passwords', () => {
  it('hashes with a fresh salt and verifies only the right password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct hors', a)).toBe(false);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
  });
});

describe('runBulk', () => {
  it('reports every item in input order, failures included, with bounded concurrency', async () => {
    let running = 0;
    let peak = 0;
    const items = await runBulk(
      bulkNames('u', 6),
      (n) => n,
      async (n) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 5)); // the work: long enough for the runs to overlap
        running--;
        if (n === 'u3') throw new ConflictError('taken');
        return { id: n };
      },
      { concurrency: 2 },
    );
    expect(items.map((i) => [i.name, i.ok])).toEqual([
      ['u1', true],
      ['u2', true],
      ['u3', false],
      ['u4', true],
      ['u5', true],
      ['u6', true],
    ]);
    expect(items[2]!.error).toEqual({ code: 'conflict', message: 'taken', exitCode: 3 });
    expect(peak).toBe(2);
    expect(bulkExitCode(items)).toBe(3);
  });
});
