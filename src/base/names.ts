import { UsageError } from './errors.js';

// Names end up inside Docker object names (services, configs, secrets: [a-zA-Z0-9][a-zA-Z0-9_.-],
// at most 63 characters in all), so they are held to a strict, lower-case ASCII form.
const USER = /^[a-z][a-z0-9_-]{0,31}$/;
const FUNCTION = /^[a-z][a-z0-9_-]{0,47}$/;

export function validateUserName(name: unknown): string {
  return validate(name, USER, 'user name', '1-32 characters: lower-case letters, digits, "-" or "_", starting with a letter');
}

export function validateFunctionName(name: unknown): string {
  return validate(name, FUNCTION, 'function name', '1-48 characters: lower-case letters, digits, "-" or "_", starting with a letter');
}

/**
 * A secret's name: also its file name under /run/secrets and the tail of its Swarm name
 * (see secretObjectName), hence shorter than a function name. `faasctl…` is the runtime's
 * own (the warm token is /run/secrets/faasctl-token).
 */
export function validateSecretName(name: unknown): string {
  const rule = '1-24 characters: lower-case letters, digits, "-" or "_", starting with a letter, not "faasctl…"';
  const valid = validate(name, /^[a-z][a-z0-9_-]{0,23}$/, 'secret name', rule);
  if (valid.startsWith('faasctl')) throw new UsageError(`invalid secret name "${valid}": the faasctl prefix is reserved`, { code: 'invalid_name', hint: `use ${rule}` });
  return valid;
}

/** A name prefix for bulk operations: a valid name that leaves room for a number. */
export function validatePrefix(prefix: unknown): string {
  return validate(prefix, /^[a-z][a-z0-9_-]{0,23}$/, 'prefix', '1-24 characters: lower-case letters, digits, "-" or "_", starting with a letter');
}

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

export function validatePassword(password: string): string {
  if (password.length < PASSWORD_MIN) throw new UsageError(`password too short: at least ${PASSWORD_MIN} characters`, { code: 'invalid_password' });
  if (password.length > PASSWORD_MAX) throw new UsageError(`password too long: at most ${PASSWORD_MAX} characters`, { code: 'invalid_password' });
  return password;
}

function validate(value: unknown, pattern: RegExp, what: string, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
    throw new UsageError(`invalid ${what} ${shown}`, { code: 'invalid_name', hint: `use ${rule}` });
  }
  return value;
}
