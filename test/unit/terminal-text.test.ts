import { describe, expect, it } from 'vitest';
import { jsonForTerminal, terminalSafe } from '../../src/cli/terminal-text.js';

describe('terminalSafe', () => {
  it('spells out C0 controls, DEL and C1, keeping tab, newline and CRLF', () => {
    expect(terminalSafe('a\u001b[2J\u001b]0;title\u0007b')).toBe('a\\x1b[2J\\x1b]0;title\\x07b');
    expect(terminalSafe('x\u0000\u0008\u007f\u009b\u0085y')).toBe('x\\x00\\x08\\x7f\\u009b\\u0085y');
    expect(terminalSafe('line\tcol\r\nnext\n')).toBe('line\tcol\r\nnext\n');
    expect(terminalSafe('50%\rdone')).toBe('50%\\rdone');
  });

  it('leaves printable text alone, non-ASCII included', () => {
    const text = 'héllo wörld 😀 \uFFFD';
    expect(terminalSafe(text)).toBe(text);
  });

  it('never leaves an ESC or CSI byte in its answer', () => {
    const all = Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)).join('');
    expect(terminalSafe(all)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});

describe('jsonForTerminal', () => {
  it('escapes DEL and C1 and still parses to the exact text', () => {
    const value = { s: 'a\u001b[31m\u007f\u009bz', n: 1 };
    const json = jsonForTerminal(JSON.stringify(value));
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});
