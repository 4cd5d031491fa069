import { isUtf8 } from 'node:buffer';
import { UsageError } from '../base/errors.js';

/**
 * Code, requirements and inputs must be UTF-8 text. Read as 'utf8', a binary file (a zip given as
 * code, an image given as --data-file) silently turned into U+FFFD soup and NUL bytes, and a NUL
 * reached PostgreSQL as `invalid byte sequence for encoding "UTF8": 0x00`, an internal error
 * (issue 17). Such input is refused before anything is created, naming the first bad byte.
 */

/** The first byte that makes `bytes` not UTF-8 text (a NUL, or a byte of an invalid sequence). */
export function firstNonTextByte(bytes: Uint8Array): { offset: number; byte: number } | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nul = buf.indexOf(0);
  // The common case, text, is answered by Node's own validator without copying the input.
  if (nul < 0 && isUtf8(buf)) return undefined;
  // A valid prefix decodes and re-encodes to itself; the first difference is the bad sequence.
  const decoded = buf.toString('utf8');
  const again = Buffer.from(decoded, 'utf8');
  let bad = -1;
  if (!again.equals(buf)) {
    bad = 0;
    while (bad < buf.length && buf[bad] === again[bad]) bad++;
  }
  const offset = [nul, bad].filter((o) => o >= 0).sort((a, b) => a - b)[0];
  return offset === undefined ? undefined : { offset, byte: buf[offset]! };
}

/**
 * The bytes as a string, or a usage error (exit 2): `what` names the source (a path, "stdin"),
 * `expected` what the command takes there.
 */
export function textOf(bytes: Uint8Array, what: string, expected: string, hint?: string): string {
  const bad = firstNonTextByte(bytes);
  if (bad) {
    const byte = `0x${bad.byte.toString(16).padStart(2, '0')}`;
    throw new UsageError(`${what} is not a UTF-8 text file (byte ${byte} at offset ${bad.offset}); ${expected}`, { code: 'not_text', hint });
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
