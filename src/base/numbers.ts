import { UsageError } from './errors.js';

/** A flag's whole number within [min, max], or a usage error that says the range. */
export function wholeNumber(raw: string, flag: string, min: number, max: number): number {
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`invalid ${flag} ${raw}`, { code: 'invalid_number', hint: `a whole number from ${min} to ${max}` });
  return n;
}
