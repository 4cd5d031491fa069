import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/base/errors.js';
import { firstNonTextByte, textOf } from '../../src/cli/text-input.js';

describe('firstNonTextByte', () => {
  it('finds nothing in UTF-8 text', () => {
    expect(firstNonTextByte(Buffer.from('def main(data):\n    return "é😀"\n'))).toBeUndefined();
    expect(firstNonTextByte(Buffer.alloc(0))).toBeUndefined();
  });

  it('finds a NUL, an invalid byte, a cut sequence and an encoded surrogate', () => {
    expect(firstNonTextByte(Buffer.from('PK\u0003\u0004\u0000\u0000', 'latin1'))).toEqual({ offset: 4, byte: 0 });
    expect(firstNonTextByte(Buffer.from([0x61, 0x62, 0xff, 0x00]))).toEqual({ offset: 2, byte: 0xff });
    expect(firstNonTextByte(Buffer.from([0x61, 0xc3]))).toEqual({ offset: 1, byte: 0xc3 });
    expect(firstNonTextByte(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toEqual({ offset: 1, byte: 0xed });
  });
});

describe('textOf', () => {
  it('refuses binary with a usage error naming the byte and what was expected', () => {
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]);
    try {
      textOf(zip, 'x.zip', 'a function is Python source');
      expect.unreachable();
    } catch (err) {
      expect((err as { exitCode: number }).exitCode).toBe(EXIT.usage);
      expect((err as Error).message).toBe('x.zip is not a UTF-8 text file (byte 0x00 at offset 5); a function is Python source');
    }
  });

  it('answers the text of UTF-8 input', () => {
    expect(textOf(Buffer.from('{"a": "é"}'), 'in.json', '')).toBe('{"a": "é"}');
  });
});
