import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.js';
import { MAX_INPUT_BYTES, validateInput } from '../../src/core/invocations/invoke.js';

/** A JSON string document of exactly `bytes` bytes. */
const jsonOfBytes = (bytes: number) => `"${'a'.repeat(bytes - 2)}"`;

function usageErrorOf(raw: string): UsageError {
  try {
    validateInput(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    return err as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('validateInput', () => {
  it('gives the function null when there is no input', () => {
    expect(validateInput(undefined)).toBe('null');
    expect(validateInput('')).toBe('null');
    expect(validateInput(' \n\t')).toBe('null');
  });

  it('passes valid JSON through unchanged', () => {
    for (const doc of ['{"a": [1, 2]}', '42', '"text"', 'null', 'false', ' [ ] \n']) expect(validateInput(doc)).toBe(doc);
  });

  it.each(['{a: 1}', "{'a': 1}", '[1, 2,]', 'undefined', 'NaN', '{"a": 1} x'])('rejects %j as invalid_input', (raw) => {
    const e = usageErrorOf(raw);
    expect(e.code).toBe('invalid_input');
    expect(e.message).toMatch(/^input is not valid JSON: /);
    expect(e.hint).toBeTruthy();
  });

  it('accepts exactly MAX_INPUT_BYTES and rejects one byte more as input_too_large', () => {
    expect(MAX_INPUT_BYTES).toBe(500 * 1024);
    const atLimit = jsonOfBytes(MAX_INPUT_BYTES);
    expect(validateInput(atLimit)).toBe(atLimit);
    const e = usageErrorOf(jsonOfBytes(MAX_INPUT_BYTES + 1));
    expect(e.code).toBe('input_too_large');
    expect(e.message).toBe(`input is ${MAX_INPUT_BYTES + 1} bytes; the limit is ${MAX_INPUT_BYTES} (500 KiB)`);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const chars = Math.floor(MAX_INPUT_BYTES / 2) + 1; // fits in characters, not in bytes
    expect(usageErrorOf(`"${'é'.repeat(chars)}"`).code).toBe('input_too_large');
  });

  it('checks the size before parsing, so an oversized document is too large, not invalid', () => {
    expect(usageErrorOf(`{${'x'.repeat(MAX_INPUT_BYTES)}`).code).toBe('input_too_large');
  });
});
