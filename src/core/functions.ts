import type { CurrentFunction, FunctionSummary, Limits, VersionRow } from '../db/functions-repo.js';
import type { RequestRow } from '../db/requests-repo.js';
import type { Store } from '../db/store.js';
import type { SwarmClient } from '../swarm/client.js';
import { codeConfigName, installationLabel, LABELS } from '../swarm/sandbox.js';
import { componentLabels } from '../swarm/spec.js';
import { checkCode, type CheckPassed } from './code-check.js';
import { ConflictError, NotFoundError, UsageError } from './errors.js';
import { type LimitFlags, parseEnv, resolveLimits } from './limits.js';
import { validateFunctionName } from './names.js';
import type { Clock, Logger } from './ports.js';
import type { Actor } from './users.js';

/** Swarm stores a config of at most 500 KiB; code and input travel as configs. */
export const MAX_CODE_BYTES = 500 * 1024;

export interface FunctionDeps {
  store: Store;
  swarm: SwarmClient;
  clock: Clock;
  log: Logger;
  newId: () => string;
  sha256: (text: string) => string;
  runtimeImage: () => Promise<string>;
  progress: (text: string) => void;
}

export interface DeployInput extends LimitFlags {
  name: string;
  code: string;
  /** Shown in syntax errors: the file the user gave. */
  filename: string;
  entry?: string;
  env?: string[];
}

export interface Deployed {
  id: string;
  name: string;
  version: number;
  sha256: string;
  format: CheckPassed['format'];
  entry: string;
  limits: Limits;
  env: Record<string, string>;
  warnings: CheckPassed['warnings'];
  requestId: string;
  /** False when the code is identical to the current version's: no new version was made. */
  changed: boolean;
}

export async function deployFunction(deps: FunctionDeps, actor: Actor, input: DeployInput): Promise<Deployed> {
  const name = validateFunctionName(input.name);
  const limits = resolveLimits(input);
  const env = parseEnv(input.env);
  if (await deps.store.functions.current(actor.id, name)) {
    throw new ConflictError(`you already have a function named "${name}"`, { code: 'name_taken', hint: `faasctl fn update ${name} FILE makes a new version` });
  }
  return publish(deps, actor, { ...input, name, limits, env, type: 'fn.deploy' }, async (tx, version) => {
    await tx.functions.insert({ id: version.functionId, userId: actor.id, name });
    return 1;
  });
}

export interface UpdateInput extends LimitFlags {
  name: string;
  /** New code, or undefined to keep the current code and change only limits, entry or env. */
  code?: string;
  filename?: string;
  entry?: string;
  env?: string[];
}

/** A new immutable version; flags not given keep the current version's values. */
export async function updateFunction(deps: FunctionDeps, actor: Actor, input: UpdateInput): Promise<Deployed> {
  const fn = await requireFunction(deps.store, actor, input.name);
  const cur = fn.current;
  const limits = resolveLimits(input, cur);
  const env = parseEnv(input.env, cur.env);
  const code = input.code ?? cur.code;
  const entry = input.entry ?? (code === cur.code ? cur.entry : undefined);
  const unchanged = code === cur.code && entry === cur.entry && sameLimits(limits, cur) && JSON.stringify(env) === JSON.stringify(cur.env);
  if (unchanged) {
    return { id: fn.id, name: fn.name, version: cur.version, sha256: cur.sha256, format: cur.format, entry: cur.entry, limits, env, warnings: [], requestId: '', changed: false };
  }
  return publish(deps, actor, { name: fn.name, code, filename: input.filename ?? `${fn.name}.py`, entry, limits, env, type: 'fn.update', functionId: fn.id }, async (tx) => {
    const locked = await tx.functions.byNameForUpdate(actor.id, fn.name);
    if (!locked) throw notFound(fn.name);
    const next = (await tx.functions.maxVersion(fn.id)) + 1;
    await tx.functions.setCurrent(fn.id, next);
    return next;
  });
}

interface PublishInput {
  name: string;
  code: string;
  filename: string;
  entry?: string;
  limits: Limits;
  env: Record<string, string>;
  type: 'fn.deploy' | 'fn.update';
  functionId?: string;
}

type Repos = Parameters<Parameters<Store['transaction']>[0]>[0];

/**
 * Check → publish the code as a config → record, in that order: a syntax error stores
 * nothing but its request row, and a failed write removes a config no version needs.
 */
async function publish(deps: FunctionDeps, actor: Actor, input: PublishInput, claimVersion: (tx: Repos, v: { functionId: string }) => Promise<number>): Promise<Deployed> {
  const bytes = Buffer.byteLength(input.code);
  if (bytes === 0) throw new UsageError(`${input.filename} is empty`, { hint: 'a function file defines main(data)' });
  if (bytes > MAX_CODE_BYTES) throw new UsageError(`${input.filename} is ${bytes} bytes; the limit is ${MAX_CODE_BYTES}`, { code: 'code_too_large', hint: 'move data out of the code and pass it as input' });
  const started = deps.clock.now();
  const requestId = deps.newId();
  const image = await deps.runtimeImage();
  deps.progress('checking the code…');
  let checked: CheckPassed;
  try {
    checked = await checkCode(deps.swarm, image, input.code, input.entry, input.filename, { userId: actor.id, installation: await deps.store.meta.installationId() });
  } catch (err) {
    if (err instanceof UsageError) await recordRejected(deps, actor, requestId, started, input, err);
    throw err;
  }
  const sha256 = deps.sha256(input.code);
  deps.progress('publishing the code…');
  const created = await ensureCodeConfig(deps.swarm, await deps.store.meta.installationId(), sha256, input.code);
  const functionId = input.functionId ?? deps.newId();
  try {
    const version = await deps.store.transaction(async (tx) => {
      const v = await claimVersion(tx, { functionId });
      await tx.functions.insertVersion({ functionId, version: v, code: input.code, sha256, entry: checked.entry, format: checked.format, ...input.limits, env: input.env });
      await tx.requests.insert({
        ...finished(deps, requestId, started),
        userId: actor.id,
        type: input.type,
        params: { name: input.name, version: v, sha256, bytes, entry: checked.entry, format: checked.format },
        functionId,
        functionName: input.name,
        functionVersion: v,
      });
      return v;
    });
    return { id: functionId, name: input.name, version, sha256, format: checked.format, entry: checked.entry, limits: input.limits, env: input.env, warnings: checked.warnings, requestId, changed: true };
  } catch (err) {
    if (created) await removeUnusedCodeConfigs(deps, [sha256]);
    if (err instanceof ConflictError) throw new ConflictError(`you already have a function named "${input.name}"`, { code: 'name_taken', hint: `faasctl fn update ${input.name} FILE makes a new version` });
    throw err;
  }
}

/** The old system stored compile errors as the request's result; so does faasctl. */
async function recordRejected(deps: FunctionDeps, actor: Actor, requestId: string, started: Date, input: PublishInput, err: UsageError): Promise<void> {
  const end = deps.clock.now();
  await deps.store.requests.insert({
    id: requestId,
    userId: actor.id,
    type: input.type,
    status: 'developer_error',
    params: { name: input.name, bytes: Buffer.byteLength(input.code) },
    error: [err.message, err.detail].filter(Boolean).join('\n'),
    startedAt: started,
    finishedAt: end,
    durationMs: end.getTime() - started.getTime(),
    functionId: input.functionId,
    functionName: input.name,
  });
}

/** Creates the code's config unless it exists; answers whether this call created it. */
export async function ensureCodeConfig(swarm: SwarmClient, installation: string, sha256: string, code: string): Promise<boolean> {
  const name = codeConfigName(installation, sha256);
  if (await swarm.findConfig(name)) return false;
  try {
    await swarm.createConfig(name, code, { ...componentLabels('code'), ...installationLabel(installation), [LABELS.sha256]: sha256 });
    return true;
  } catch (err) {
    if (err instanceof ConflictError) return false; // a concurrent deploy of the same code
    throw err;
  }
}

/** Removes the configs of these hashes that no version refers to; one still in use by a running invocation is left for gc. */
export async function removeUnusedCodeConfigs(deps: Pick<FunctionDeps, 'store' | 'swarm' | 'log'>, shas: string[]): Promise<number> {
  const inUse = await deps.store.functions.shasInUse(shas);
  const installation = await deps.store.meta.installationId();
  let removed = 0;
  for (const sha of shas.filter((s) => !inUse.has(s))) {
    try {
      const config = await deps.swarm.findConfig(codeConfigName(installation, sha));
      if (!config) continue;
      await deps.swarm.removeConfig(config.id);
      removed++;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      deps.log.debug(`config ${codeConfigName(installation, sha)} still in use; gc removes it later`);
    }
  }
  return removed;
}

export async function requireFunction(store: Store, actor: Actor, name: string): Promise<CurrentFunction> {
  const fn = await store.functions.current(actor.id, validateFunctionName(name));
  if (!fn) throw notFound(name);
  return fn;
}

export async function listFunctions(store: Store, actor: Actor): Promise<FunctionSummary[]> {
  return store.functions.list(actor.id);
}

export async function functionVersions(store: Store, actor: Actor, name: string): Promise<{ fn: CurrentFunction; versions: VersionRow[] }> {
  const fn = await requireFunction(store, actor, name);
  return { fn, versions: await store.functions.versions(fn.id) };
}

export interface FunctionDetail {
  fn: CurrentFunction;
  versions: number;
  recent: RequestRow[];
}

export async function showFunction(store: Store, actor: Actor, name: string, recent = 5): Promise<FunctionDetail> {
  const fn = await requireFunction(store, actor, name);
  const versions = await store.functions.maxVersion(fn.id);
  return { fn, versions, recent: await store.requests.list({ userId: actor.id, type: 'fn.invoke', functionId: fn.id, limit: recent }) };
}

/** Makes an earlier version current again (default: the one before the current). */
export async function rollbackFunction(deps: Pick<FunctionDeps, 'store' | 'clock' | 'newId'>, actor: Actor, name: string, to?: number): Promise<{ name: string; from: number; to: number; requestId: string }> {
  const fn = await requireFunction(deps.store, actor, name);
  const target = to ?? fn.currentVersion - 1;
  if (!Number.isInteger(target) || target < 1) {
    throw new UsageError(to === undefined ? `"${fn.name}" has no version before v${fn.currentVersion}` : `invalid version ${to}`, { hint: `faasctl fn versions ${fn.name} lists them` });
  }
  if (target === fn.currentVersion) throw new UsageError(`v${target} is already the current version of "${fn.name}"`, { code: 'already_current' });
  const started = deps.clock.now();
  const requestId = deps.newId();
  await deps.store.transaction(async (tx) => {
    if (!(await tx.functions.byNameForUpdate(actor.id, fn.name))) throw notFound(fn.name);
    if (!(await tx.functions.version(fn.id, target))) throw new NotFoundError(`"${fn.name}" has no version ${target}`, { hint: `faasctl fn versions ${fn.name} lists them` });
    await tx.functions.setCurrent(fn.id, target);
    await tx.requests.insert({ ...finished(deps, requestId, started), userId: actor.id, type: 'fn.rollback', params: { name: fn.name, from: fn.currentVersion, to: target }, functionId: fn.id, functionName: fn.name, functionVersion: target });
  });
  return { name: fn.name, from: fn.currentVersion, to: target, requestId };
}

export async function deleteFunction(deps: Pick<FunctionDeps, 'store' | 'swarm' | 'clock' | 'newId' | 'log'>, actor: Actor, name: string): Promise<{ name: string; versions: number; configsRemoved: number; requestId: string }> {
  const fn = await requireFunction(deps.store, actor, name);
  const started = deps.clock.now();
  const requestId = deps.newId();
  const shas = await deps.store.transaction(async (tx) => {
    const removed = await tx.functions.remove(fn.id);
    await tx.requests.insert({ ...finished(deps, requestId, started), userId: actor.id, type: 'fn.delete', params: { name: fn.name, versions: fn.currentVersion }, functionName: fn.name });
    return removed;
  });
  const configsRemoved = await removeUnusedCodeConfigs(deps, shas);
  return { name: fn.name, versions: shas.length, configsRemoved, requestId };
}

function sameLimits(a: Limits, b: Limits): boolean {
  return a.memoryBytes === b.memoryBytes && a.nanoCpus === b.nanoCpus && a.timeoutMs === b.timeoutMs;
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`function "${name}" not found`, { hint: 'faasctl fn list shows yours' });
}

function finished(deps: Pick<FunctionDeps, 'clock'>, id: string, started: Date) {
  const end = deps.clock.now();
  return { id, status: 'success' as const, startedAt: started, finishedAt: end, durationMs: end.getTime() - started.getTime() };
}

