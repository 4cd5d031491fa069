import type { Limits } from '../../db/functions-repo.js';
import { parseDuration } from '../../base/durations.js';
import { UsageError } from '../../base/errors.js';

/** Sandbox defaults: every function gets these unless deployed with other limits. */
export const DEFAULT_LIMITS: Limits = { memoryBytes: 256 * 1024 * 1024, nanoCpus: 1_000_000_000, timeoutMs: 30_000 };

const MIN_MEMORY = 32 * 1024 * 1024; // the runtime and CPython need ~20 MiB before user code
const MAX_MEMORY = 64 * 1024 * 1024 * 1024;
const MAX_TIMEOUT_MS = 60 * 60 * 1000;
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

export interface LimitFlags {
  memory?: string;
  cpus?: string;
  timeout?: string;
}

/** Flags over a base (the defaults on deploy, the current version on update). */
export function resolveLimits(flags: LimitFlags, base: Limits = DEFAULT_LIMITS): Limits {
  return {
    memoryBytes: flags.memory === undefined ? base.memoryBytes : parseMemory(flags.memory),
    nanoCpus: flags.cpus === undefined ? base.nanoCpus : parseCpus(flags.cpus),
    timeoutMs: flags.timeout === undefined ? base.timeoutMs : parseTimeout(flags.timeout),
  };
}

/** "256m", "1g", "512MiB" → bytes (powers of 1024, like docker --memory). */
export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  const bytes = m && unit ? Math.round(Number(m[1]) * unit) : NaN;
  if (!(bytes >= MIN_MEMORY && bytes <= MAX_MEMORY)) {
    throw new UsageError(`invalid --memory "${text}"`, { hint: 'use 32m to 64g, e.g. --memory 256m or --memory 1g' });
  }
  return bytes;
}

export function parseCpus(text: string): number {
  const cpus = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(cpus >= 0.01 && cpus <= 256)) {
    throw new UsageError(`invalid --cpus "${text}"`, { hint: 'use a number of CPUs from 0.01 to 256, e.g. --cpus 0.5' });
  }
  return Math.round(cpus * 1e9);
}

export function parseTimeout(text: string): number {
  const ms = parseDuration(text, '--timeout');
  if (!(ms >= 100 && ms <= MAX_TIMEOUT_MS)) throw new UsageError(`invalid --timeout "${text}"`, { hint: 'use 100ms to 1h, e.g. --timeout 30s' });
  return Math.round(ms);
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_ENV_BYTES = 64 * 1024;

/** `--env K=V` pairs; FAASCTL_* is the runtime's own namespace. */
export function parseEnv(pairs: string[] | undefined, base: Record<string, string> = {}): Record<string, string> {
  const env = { ...base };
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    const key = at < 0 ? pair : pair.slice(0, at);
    if (!ENV_KEY.test(key)) throw new UsageError(`invalid --env "${pair}"`, { hint: 'use KEY=VALUE with KEY of letters, digits and "_", e.g. --env MODE=fast' });
    if (key.startsWith('FAASCTL_')) throw new UsageError(`--env ${key}: FAASCTL_* variables are reserved for the runtime`, { hint: 'choose another name' });
    if (at < 0)
      delete env[key]; // `--env KEY` on update removes it
    else env[key] = pair.slice(at + 1);
  }
  if (Buffer.byteLength(JSON.stringify(env)) > MAX_ENV_BYTES) throw new UsageError('--env values exceed 64 KiB in all', { hint: 'pass large data as input instead' });
  return env;
}

export function formatLimits(l: Limits): string {
  return `${formatBytes(l.memoryBytes)} memory, ${l.nanoCpus / 1e9} CPU, ${l.timeoutMs / 1000} s timeout`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
