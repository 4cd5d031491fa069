import { describe, expect, it } from 'vitest';
import { storableJson, storableText } from '../../src/db/storable-text.js';

describe('storableText', () => {
  it('keeps text PostgreSQL can store, controls included', () => {
    const text = 'plain \u001b[31mred\u001b[0m \t\r\n \u007f \u009b é 😀';
    expect(storableText(text)).toEqual({ value: text, altered: false });
    expect(storableText(null)).toEqual({ value: null, altered: false });
  });

  it('replaces NUL and lone surrogates with U+FFFD and says so', () => {
    expect(storableText('a\u0000b')).toEqual({ value: 'a\uFFFDb', altered: true });
    expect(storableText('x\uDC80y')).toEqual({ value: 'x\uFFFDy', altered: true });
    expect(storableText('x\uD83Dy')).toEqual({ value: 'x\uFFFDy', altered: true });
    expect(storableText('end\uD83D')).toEqual({ value: 'end\uFFFD', altered: true });
    // A surrogate pair is one character (😀), not two lone halves.
    expect(storableText('\uD83D\uDE00\u0000')).toEqual({ value: '😀\uFFFD', altered: true });
  });
});

describe('storableJson', () => {
  it('answers the JSON text unchanged when nothing needs replacing', () => {
    expect(storableJson({ a: [1, 'b\u001b'] })).toEqual({ value: '{"a":[1,"b\\u001b"]}', altered: false });
    expect(storableJson(undefined)).toEqual({ value: null, altered: false });
    expect(storableJson(null)).toEqual({ value: 'null', altered: false });
  });

  it('replaces NUL and lone surrogates in strings and keys, at any depth', () => {
    const r = storableJson({ 'k\u0000': ['\uDC80', { deep: 'a\u0000' }], ok: '😀' });
    expect(r.altered).toBe(true);
    expect(JSON.parse(r.value!)).toEqual({ 'k\uFFFD': ['\uFFFD', { deep: 'a\uFFFD' }], ok: '😀' });
    expect(r.value).not.toMatch(/\\u0000|\\udc80/);
  });

  it('does not take an escaped backslash before u0000 for a NUL', () => {
    const r = storableJson({ path: 'C:\\u0000' });
    expect(r).toEqual({ value: JSON.stringify({ path: 'C:\\u0000' }), altered: false });
  });
});
