import { parsePlacement } from './placement.js';
import type { FunctionSummary } from '../../db/functions-repo.js';
import type { Store } from '../../db/store.js';
import { type BulkItem, runBulk } from '../../base/bulk.js';
import { checkFunctionCode, type CheckedCode, type Deployed, deployFunction, updateFunction } from './functions.js';
import { listFunctions } from './queries.js';
import { ensureCodeConfig, removeUnusedCodeConfigs } from './code-configs.js';
import type { FunctionDeps } from './lookup.js';
import type { DependencyInput } from './dependencies.js';
import type { CodeArchive } from './code-archive.js';
import { parseEnv, resolveLimits } from './limits.js';
import { validateFunctionName, validatePrefix } from '../../base/names.js';
import type { Actor } from '../users/accounts.js';
import type { VersionFlags } from './functions.js';

/** The 2016 client's bulk operations on functions: one file, many names. */

export interface BulkOptions {
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
  /** Runs after each item is stored (e.g. rolling its warm replicas); its failure is the item's. */
  afterEach?: (deployed: Deployed) => Promise<unknown>;
}

export interface BulkSource extends VersionFlags {
  code: string;
  /** Code shipped as a directory or a zip. */
  archive?: CodeArchive;
  /** Shown in syntax errors: the file the user gave. */
  filename: string;
  /** Installed once into one image that every item's version runs in; undefined keeps each one's (update). */
  dependencies?: DependencyInput | null;
}

export interface BulkPublished {
  /** The check's warnings, once for every item. */
  warnings: CheckedCode['warnings'];
  items: Array<BulkItem<Deployed>>;
}

/** Deploys one file as every one of `names`: the code is checked once and published once. */
export async function deployFunctions(deps: FunctionDeps, actor: Actor, input: BulkSource & { names: string[] }, options: BulkOptions): Promise<BulkPublished> {
  input.names.forEach(validateFunctionName);
  validateFlags(input);
  const source = await checkOnce(deps, actor, input, 'fn.deploy', rangeLabel(input.names));
  return publishAll(deps, source, input.names, (name) => deployFunction(deps, actor, { ...input, name }, source), options);
}

/** A new version of every function of the actor's whose name starts with `prefix`; flags not given keep each one's values. */
export async function updateFunctions(deps: FunctionDeps, actor: Actor, input: BulkSource & { prefix: string }, options: BulkOptions): Promise<BulkPublished> {
  const prefix = validatePrefix(input.prefix);
  validateFlags(input);
  const names = (await functionsWithPrefix(deps.store, actor, prefix)).map((f) => f.name);
  if (!names.length) return { warnings: [], items: [] };
  const source = await checkOnce(deps, actor, input, 'fn.update', `${prefix}*`);
  return publishAll(deps, source, names, (name) => updateFunction(deps, actor, { ...input, name }, source), options);
}

/** The actor's functions whose names start with `prefix`, by name. */
export async function functionsWithPrefix(store: Store, actor: Actor, prefix: string): Promise<FunctionSummary[]> {
  return withPrefix(await listFunctions(store, actor), validatePrefix(prefix));
}

// Filtered here rather than in SQL: no LIKE pattern ("_" is a wildcard) to escape, and the list is one user's.
export function withPrefix<T extends { name: string }>(rows: T[], prefix: string): T[] {
  return rows.filter((r) => r.name.startsWith(prefix));
}

/** `p1..p20` for the request log of a check that covered all of them. */
export function rangeLabel(names: string[]): string {
  return names.length > 1 ? `${names[0]}..${names[names.length - 1]}` : (names[0] ?? '');
}

/** Bad limits or env are a usage error for the whole command, before the check. */
function validateFlags(input: BulkSource): void {
  resolveLimits(input);
  parseEnv(input.env);
  parsePlacement(input.placement ?? {});
}

/** A rejected file records one request row for the whole batch, named by `label`. */
async function checkOnce(deps: FunctionDeps, actor: Actor, input: BulkSource, type: 'fn.deploy' | 'fn.update', label: string): Promise<CheckedCode> {
  const params = { name: label, bytes: Buffer.byteLength(input.code) };
  // The import check's sandbox: the flags' limits and env (each item's own are not known yet).
  return checkFunctionCode(deps, actor, { ...input, limits: resolveLimits(input), env: parseEnv(input.env) }, { requestId: deps.newId(), started: deps.clock.now(), type, params });
}

/**
 * Publishes the config once, then each item; an item's own clean-up sees the config as
 * existing, so if no item stored a version the config is removed here.
 */
async function publishAll(deps: FunctionDeps, source: CheckedCode, names: string[], one: (name: string) => Promise<Deployed>, options: BulkOptions): Promise<BulkPublished> {
  const created = await ensureCodeConfig(deps.swarm, await deps.store.meta.installationId(), source.sha256, source.archive?.bytes ?? source.code);
  const items = await runBulk(
    names,
    (n) => n,
    async (name) => {
      const deployed = await one(name);
      await options.afterEach?.(deployed);
      return deployed;
    },
    options,
  );
  if (created) await removeUnusedCodeConfigs(deps, [source.sha256]);
  return { warnings: source.warnings, items };
}
