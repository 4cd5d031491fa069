import type { FaasctlError } from '../../../base/errors.js';
import type { MenuAction } from './actions.js';

/** A command a hint names, and the label of the menu entry that does the same. */
const ENTRIES: Array<[RegExp, string]> = [
  [/\b(?:run )?faasctl login(?: USER| [\w.-]+)?/g, 'Log in'],
  [/\bfaasctl user create(?: [\w.-]+)?/g, 'Create a user'],
  [/\bfaasctl fn (?:deploy|new)(?: [\w./-]+)*/g, 'Create a function from a file'],
  [/\bfaasctl fn update(?: [\w./-]+)*/g, 'Update a function from a file'],
  [/\bfaasctl fn delete(?: [\w.-]+)?/g, 'Delete a function'],
  [/\bfaasctl fn (?:list|ls)\b/g, 'List my functions'],
  [/\bfaasctl request (?:show|wait)(?: [\w-]+)?(?: --items)?/g, 'Show a request'],
  [/\bfaasctl request (?:list|ls)\b[^;,)]*/g, 'Poll all requests of this session'],
  [/\bfaasctl dlq (?:list|redrive)\b[^;,)]*/g, 'Dead letters: list, redrive one'],
];

/**
 * Inside the menu a hint names the entry to pick ("pick 16. Log in"), not a command to type
 * in a shell the person is not at; a command with no entry keeps its words.
 */
export function menuHint(err: FaasctlError, entries: Array<{ number: number; action: MenuAction }>): FaasctlError {
  if (!err.hint) return err;
  const hint = menuWords(err.hint, entries);
  if (hint === err.hint) return err;
  const copy = Object.create(Object.getPrototypeOf(err)) as FaasctlError;
  return Object.assign(copy, err, { hint, message: err.message, stack: err.stack });
}

/** The same for any line that names a command to run next. */
export function menuWords(text: string, entries: Array<{ number: number; action: MenuAction }>): string {
  let out = text;
  for (const [pattern, label] of ENTRIES) {
    const entry = entries.find((e) => e.action.label === label);
    if (entry) out = out.replace(pattern, `pick ${entry.number}. ${label}`);
  }
  return out;
}
