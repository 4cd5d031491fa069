import type { CurrentFunction, Limits, StoredDispatchPolicy } from '../../db/functions-repo.js';
import type { CodeArchive } from './code-archive.js';
import type { Placement } from '../../base/placement.js';
import type { DependencyInput } from './dependencies.js';
import type { Flavor } from './flavors.js';
import { formatBytes } from './limits.js';
import type { UpdateInput } from './functions.js';
import { DEFAULT_WORKERS } from './warm-replicas.js';

/**
 * A functions file (`faasctl apply -f`, `faasctl export`) as desired state: what each function
 * should be, compared field by field with what is deployed. Declarative: a field the file leaves
 * out is the default (no env, no secrets, 256 MiB …), not "keep the current value" as on
 * `fn update`; only entry and flavour, when left out, follow the code (detected as on deploy).
 */

export interface FunctionSpec {
  name: string;
  code: string;
  /** Code given as a directory or a zip: the whole of it (deterministic bytes, so an unchanged directory diffs equal). */
  archive?: CodeArchive;
  /** What names the code: the archive's sha256, else the single file's (as a version's sha256). */
  sha256: string;
  /** Shown in syntax errors: the file the code came from. */
  filename: string;
  entry?: string;
  flavor?: Flavor;
  limits: Limits;
  env: Record<string, string>;
  /** Sorted names. */
  secrets: string[];
  /** null: none. */
  dependencies: DependencyInput | null;
  placement: Placement;
  warm: { replicas: number; workers: number };
  /** Debian packages in its image (sorted). */
  apt: string[];
  /** The dispatcher's policy; a key the file leaves out is the platform default (null). */
  policy: StoredDispatchPolicy;
}

export const DEFAULT_STORED_POLICY: StoredDispatchPolicy = { retries: null, retryOnError: false, maxEventAgeMs: null, maxConcurrency: null };

export type ChangeAction = 'create' | 'update' | 'delete' | 'unchanged';

export interface Change {
  name: string;
  action: ChangeAction;
  /** For update: each difference in a few words (`timeout 30 s → 1 min`, `env +MODE`). */
  fields: string[];
  /** Whether a new version is needed (else only the warm replicas change). */
  newVersion: boolean;
}

/** `policy`: the function's stored policy (the defaults when not given). */
export function diffFunction(spec: FunctionSpec, fn: CurrentFunction | undefined, policy: StoredDispatchPolicy = DEFAULT_STORED_POLICY): Change {
  if (!fn) return { name: spec.name, action: 'create', fields: describeNew(spec), newVersion: true };
  const cur = fn.current;
  const fields: string[] = [];
  if (spec.sha256 !== cur.sha256) fields.push('code');
  if (spec.entry !== undefined && spec.entry !== cur.entry) fields.push(`entry ${cur.entry} → ${spec.entry}`);
  if (spec.flavor !== undefined && spec.flavor !== cur.format) fields.push(`flavor ${cur.format} → ${spec.flavor}`);
  if (spec.limits.memoryBytes !== cur.memoryBytes) fields.push(`memory ${formatBytes(cur.memoryBytes)} → ${formatBytes(spec.limits.memoryBytes)}`);
  if (spec.limits.nanoCpus !== cur.nanoCpus) fields.push(`cpus ${cur.nanoCpus / 1e9} → ${spec.limits.nanoCpus / 1e9}`);
  if (spec.limits.timeoutMs !== cur.timeoutMs) fields.push(`timeout ${cur.timeoutMs / 1000} s → ${spec.limits.timeoutMs / 1000} s`);
  const env = keyChanges(cur.env, spec.env);
  if (env) fields.push(`env ${env}`);
  const secrets = setChanges(cur.secrets ?? [], spec.secrets);
  if (secrets) fields.push(`secrets ${secrets}`);
  if (normalised(spec.dependencies?.requirements) !== normalised(cur.requirements)) fields.push('requirements');
  const apt = setChanges(aptList(cur.apt), spec.apt);
  if (apt) fields.push(`apt ${apt}`);
  if (placementKey(spec.placement) !== placementKey(cur.placement)) fields.push('placement');
  const newVersion = fields.length > 0;
  if (spec.warm.replicas !== fn.warmReplicas) fields.push(`warm ${fn.warmReplicas} → ${spec.warm.replicas}`);
  else if (spec.warm.replicas > 0 && spec.warm.workers !== fn.warmWorkers) fields.push(`workers ${fn.warmWorkers} → ${spec.warm.workers}`);
  fields.push(...policyChanges(policy, spec.policy));
  return { name: spec.name, action: fields.length ? 'update' : 'unchanged', fields, newVersion };
}

/** Each policy field that differs, in a few words; null reads as "default". */
export function policyChanges(from: StoredDispatchPolicy, to: StoredDispatchPolicy): string[] {
  const text = (v: number | null, unit = (n: number) => String(n)) => (v === null ? 'default' : unit(v));
  const out: string[] = [];
  if (from.retries !== to.retries) out.push(`retries ${text(from.retries)} → ${text(to.retries)}`);
  if (from.retryOnError !== to.retryOnError) out.push(`retryOnError ${from.retryOnError} → ${to.retryOnError}`);
  if (from.maxEventAgeMs !== to.maxEventAgeMs) out.push(`maxEventAge ${text(from.maxEventAgeMs, durationText)} → ${text(to.maxEventAgeMs, durationText)}`);
  if (from.maxConcurrency !== to.maxConcurrency) out.push(`maxConcurrency ${text(from.maxConcurrency)} → ${text(to.maxConcurrency)}`);
  return out;
}

/** A version's `apt` column (one a line) as a sorted list. */
export function aptList(apt: string | null | undefined): string[] {
  return (apt ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

/** The update that makes the current version the spec's: every field spelled out, removals included. */
export function updateInput(spec: FunctionSpec, fn: CurrentFunction): UpdateInput {
  const cur = fn.current;
  const removedEnv = Object.keys(cur.env).filter((k) => !(k in spec.env));
  const removedSecrets = (cur.secrets ?? []).filter((s) => !spec.secrets.includes(s)).map((s) => `-${s}`);
  const sameRequirements = normalised(spec.dependencies?.requirements) === normalised(cur.requirements) && !setChanges(aptList(cur.apt), spec.apt);
  return {
    name: spec.name,
    code: spec.code,
    ...(spec.archive ? { archive: spec.archive } : {}),
    filename: spec.filename,
    entry: spec.entry,
    flavor: spec.flavor,
    ...limitFlags(spec.limits),
    env: [...removedEnv, ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)],
    secrets: [...spec.secrets, ...removedSecrets],
    placement: placementFlags(spec.placement),
    // The same requirements and packages keep the current image (no rebuild, no new version for it).
    dependencies: sameRequirements ? undefined : spec.dependencies,
  };
}

export function limitFlags(l: Limits): { memory: string; cpus: string; timeout: string } {
  return { memory: `${l.memoryBytes}b`, cpus: String(l.nanoCpus / 1e9), timeout: `${l.timeoutMs}ms` };
}

export function placementFlags(p: Placement) {
  return p.constraints.length || p.spread.length ? { constraint: p.constraints, placementPref: p.spread.map((s) => `spread=${s}`) } : { noPlacement: true };
}

/** `256m`, `1g`: the shortest exact spelling, as a file would say it. */
export function memoryText(bytes: number): string {
  for (const [unit, size] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}b`;
}

export function durationText(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export const DEFAULT_WARM = { replicas: 0, workers: DEFAULT_WORKERS };

function describeNew(spec: FunctionSpec): string[] {
  const l = spec.limits;
  return [
    `${formatBytes(l.memoryBytes)}, ${l.nanoCpus / 1e9} CPU, ${l.timeoutMs / 1000} s`,
    ...(Object.keys(spec.env).length ? [`env ${Object.keys(spec.env).join(' ')}`] : []),
    ...(spec.secrets.length ? [`secrets ${spec.secrets.join(' ')}`] : []),
    ...(spec.dependencies?.requirements ? ['requirements'] : []),
    ...(spec.apt.length ? [`apt ${spec.apt.join(' ')}`] : []),
    ...policyChanges(DEFAULT_STORED_POLICY, spec.policy),
    ...(spec.warm.replicas ? [`warm ${spec.warm.replicas}`] : []),
  ];
}

function keyChanges(from: Record<string, string>, to: Record<string, string>): string {
  const parts = [
    ...Object.keys(to)
      .filter((k) => !(k in from))
      .map((k) => `+${k}`),
    ...Object.keys(from)
      .filter((k) => !(k in to))
      .map((k) => `-${k}`),
    ...Object.keys(to)
      .filter((k) => k in from && from[k] !== to[k])
      .map((k) => `~${k}`),
  ];
  return parts.join(' ');
}

function setChanges(from: string[], to: string[]): string {
  return [...to.filter((s) => !from.includes(s)).map((s) => `+${s}`), ...from.filter((s) => !to.includes(s)).map((s) => `-${s}`)].join(' ');
}

function normalised(requirements: string | null | undefined): string {
  return (requirements ?? '').trim();
}

function placementKey(p: Placement | undefined): string {
  return JSON.stringify([[...(p?.constraints ?? [])].sort(), [...(p?.spread ?? [])]]);
}
