/**
 * Function output is untrusted: an ESC or CSI byte relayed raw lets a function move the cursor,
 * rewrite what the user sees, set the window title or, on some terminals, answer back into the
 * shell (terminal injection). Everything a function wrote (its prints, error, traceback, result)
 * passes through here before it reaches a terminal or a pipe in human mode: C0 controls but tab
 * and newline, a carriage return that does not end a line, DEL and the C1 range become visible
 * escapes. `--json` keeps the exact text; JSON.stringify escapes C0 itself and `jsonForTerminal`
 * escapes DEL and C1, so a parsed document still holds the function's very characters.
 */

// \r before \n stays (Windows line ends); any other \r would let a line overwrite itself.
const UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\r(?!\n)/g;
const UNSAFE_TEST = new RegExp(UNSAFE.source);
const NAMED: Record<string, string> = { '\r': '\\r', '\u001b': '\\x1b' };

function escapeOne(ch: string): string {
  const code = ch.charCodeAt(0);
  if (NAMED[ch]) return NAMED[ch];
  // C1 as a code point (\u009b), not \x9b, which would read as the raw byte 0x9b.
  return code >= 0x80 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
}

/** Function-originated text made safe for a terminal: the same text with controls spelled out. */
export function terminalSafe(text: string): string {
  return UNSAFE_TEST.test(text) ? text.replace(UNSAFE, escapeOne) : text;
}

const JSON_UNSAFE = /[\u007F-\u009F]/g;
const JSON_UNSAFE_TEST = new RegExp(JSON_UNSAFE.source);

/**
 * JSON text with DEL and C1 characters written as \u escapes: the same document once parsed,
 * but nothing a terminal acts on (JSON.stringify already escapes the C0 controls).
 */
export function jsonForTerminal(json: string): string {
  return JSON_UNSAFE_TEST.test(json) ? json.replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
