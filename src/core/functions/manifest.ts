import type { CurrentFunction, Limits } from '../../db/functions-repo.js';
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
}

export type ChangeAction = 'create' | 'update' | 'delete' | 'unchanged';

export interface Change {
  name: string;
  action: ChangeAction;
  /** For update: each difference in a few words (`timeout 30 s → 1 min`, `env +MODE`). */
  fields: string[];
  /** Whether a new version is needed (else only the warm replicas change). */
  newVersion: boolean;
}

export function diffFunction(spec: FunctionSpec, fn: CurrentFunction | undefined): Change {
  if (!fn) return { name: spec.name, action: 'create', fields: describeNew(spec), newVersion: true };
  const cur = fn.current;
  const fields: string[] = [];
  if (spec.code !== cur.code) fields.push('code');
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
  if (placementKey(spec.placement) !== placementKey(cur.placement)) fields.push('placement');
  const newVersion = fields.length > 0;
  if (spec.warm.replicas !== fn.warmReplicas) fields.push(`warm ${fn.warmReplicas} → ${spec.warm.replicas}`);
  else if (spec.warm.replicas > 0 && spec.warm.workers !== fn.warmWorkers) fields.push(`workers ${fn.warmWorkers} → ${spec.warm.workers}`);
  return { name: spec.name, action: fields.length ? 'update' : 'unchanged', fields, newVersion };
}

/** The update that makes the current version the spec's: every field spelled out, removals included. */
export function updateInput(spec: FunctionSpec, fn: CurrentFunction): UpdateInput {
  const cur = fn.current;
  const removedEnv = Object.keys(cur.env).filter((k) => !(k in spec.env));
  const removedSecrets = (cur.secrets ?? []).filter((s) => !spec.secrets.includes(s)).map((s) => `-${s}`);
  const sameRequirements = normalised(spec.dependencies?.requirements) === normalised(cur.requirements);
  return {
    name: spec.name,
    code: spec.code,
    filename: spec.filename,
    entry: spec.entry,
    flavor: spec.flavor,
    ...limitFlags(spec.limits),
    env: [...removedEnv, ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)],
    secrets: [...spec.secrets, ...removedSecrets],
    placement: placementFlags(spec.placement),
    // The same requirements keep the current image (no rebuild, no new version for it).
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
    ...(spec.dependencies ? ['requirements'] : []),
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
