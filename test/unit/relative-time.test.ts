import { describe, expect, it } from 'vitest';
import { idCell, shortId } from '../../src/cli/short-ids.js';
import { relativeTime, timeCell } from '../../src/cli/relative-time.js';

describe('times and ids as a terminal shows them', () => {
  const now = new Date('2026-12-04T12:00:00Z');
  const ago = (ms: number) => relativeTime(new Date(now.getTime() - ms), now);

  it('says how long ago, in the largest whole unit', () => {
    expect([ago(0), ago(4_999), ago(5_000), ago(59_999), ago(60_000), ago(3 * 3_600_000 + 59 * 60_000), ago(86_400_000), ago(2 * 86_400_000)]).toEqual([
      'just now',
      'just now',
      '5 s ago',
      '59 s ago',
      '1 min ago',
      '3 h ago',
      '1 day ago',
      '2 days ago',
    ]);
    expect(ago(-120_000)).toBe('in 2 min');
    expect(ago(31 * 86_400_000)).toBe('2026-11-03');
  });

  it('keeps ISO times and whole ids off a terminal', () => {
    const at = new Date('2026-12-04T11:57:00.123Z');
    expect(timeCell({ stdoutIsTTY: true }, at, now)).toBe('2 min ago'); // 2 min 59.877 s: whole minutes
    expect(timeCell({ stdoutIsTTY: false }, at, now)).toBe('2026-12-04T11:57:00.123Z');
    expect(timeCell({ stdoutIsTTY: true }, null, now)).toBe('-');
    const id = '3f2b8c1e-0d4a-4e6b-9a51-2c7d8e9f0a1b';
    expect(shortId(id)).toBe('3f2b8c1e-0d4');
    expect(idCell({ stdoutIsTTY: false }, id)).toBe(id);
  });
});
