/**
 * Function output is untrusted bytes, but PostgreSQL's `text` and `jsonb` refuse two things a
 * JavaScript string can hold: U+0000 (`invalid byte sequence for encoding "UTF8": 0x00`, and
 * `\u0000 cannot be converted to text` in jsonb) and lone UTF-16 surrogates (Python's json.dumps
 * writes `"\udc80"` for a surrogateescape'd byte; JSON.parse hands it on; jsonb refuses the escape
 * and node-pg would silently turn a text one into U+FFFD). One such byte used to fail the whole
 * write and leave the row `running` (issue 17). Everything a row takes from a function passes
 * through here: the unstorable characters become U+FFFD and the caller learns it altered the text,
 * so the row can say so (`sanitized`). Every other character, control characters included, is
 * valid text and is stored as it came; display makes those safe (src/cli/terminal-text.ts).
 */

const REPLACEMENT = '\uFFFD';
/** NUL, a high surrogate not followed by a low one, a low surrogate not preceded by a high one. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNSTORABLE_TEST = new RegExp(UNSTORABLE.source);
/** What JSON.stringify writes for those: `\u0000` and lone-surrogate escapes (its only lowercase \ud8..\udf). */
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f][0-9a-f]{2})/;

export interface Storable<T> {
  value: T;
  /** true when something was replaced. */
  altered: boolean;
}

export function storableText(text: string): Storable<string>;
export function storableText(text: string | null | undefined): Storable<string | null>;
export function storableText(text: string | null | undefined): Storable<string | null> {
  if (text == null) return { value: null, altered: false };
  if (!UNSTORABLE_TEST.test(text)) return { value: text, altered: false };
  return { value: text.replace(UNSTORABLE, REPLACEMENT), altered: true };
}

/**
 * A value as the JSON text of a jsonb parameter (undefined → SQL NULL), strings and keys made
 * storable. The common case costs one stringify and one regex test; the escape test may also
 * match an escaped backslash followed by `u0000`, which only sends the value the slow way.
 */
export function storableJson(value: unknown): Storable<string | null> {
  if (value === undefined) return { value: null, altered: false };
  const json = JSON.stringify(value);
  if (json === undefined) return { value: null, altered: false };
  if (!UNSTORABLE_ESCAPE.test(json)) return { value: json, altered: false };
  let altered = false;
  const clean = (s: string) => {
    const r = storableText(s);
    altered ||= r.altered;
    return r.value;
  };
  const rewritten = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return clean(v);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.some((k) => UNSTORABLE_TEST.test(k))) return Object.fromEntries(keys.map((k) => [clean(k), (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
  return { value: rewritten, altered };
}
