import type { Limits } from '../../db/functions-repo.js';
import type { Store } from '../../db/store.js';
import { checkCode, IMPORT_CHECK_MS, type CheckPassed } from './code-check.js';
import { checkArchiveSize, type CodeArchive } from './code-archive.js';
import { parseFlavor } from './flavors.js';
import { type DependencyInput, NO_DEPS, prepareDependencies, type PreparedDeps, versionImage } from './dependencies.js';
import { ConflictError, NotFoundError, UsageError } from '../../base/errors.js';
import { DEFAULT_LIMITS, type LimitFlags, parseEnv, resolveLimits } from './limits.js';
import { validateFunctionName } from '../../base/names.js';
import { applySecretFlags, parseSecretNames, requireSecrets } from './secrets.js';
import type { Actor } from '../users/accounts.js';
import { functionNotFound, requireFunction, type FunctionDeps } from './lookup.js';
import { ensureCodeConfig, MAX_CODE_BYTES, removeUnusedCodeConfigs } from './code-configs.js';
import { parsePlacement, samePlacement, type PlacementFlags } from './placement.js';
import { NO_PLACEMENT, type Placement } from '../../base/placement.js';

/**
 * A function's life cycle: deploy, update and rollback make versions; the code check comes
 * first and a rejected check is recorded too. Over 300 lines on purpose: the three share how a
 * version is checked, published and recorded in one transaction (publish, recordVersion,
 * recordRejected), and split they would have to export those steps to each other.
 */

/** `undefined`: no change (update keeps the current ones); `null`: none (a directory without requirements.txt). */
type DependenciesFlag = DependencyInput | null | undefined;

/** A version's settings besides its code, as deploy, update and the bulk forms take them. */
export interface VersionFlags extends LimitFlags {
  entry?: string;
  /** `--flavor`: how the entry is called; detected from its signature when not given. */
  flavor?: string;
  env?: string[];
  /** Names of the user's secrets to mount (`--secret NAME`; for update `-NAME` removes one). */
  secrets?: string[];
  placement?: PlacementFlags;
  /** `--no-import-check` (false): only compile and find the entry, never import the module at deploy. @default true */
  importCheck?: boolean;
}

export interface DeployInput extends VersionFlags {
  name: string;
  /** The entry module's text (a directory's or zip's: the module `archive.module` names). */
  code: string;
  /** Code shipped as a directory or a zip (see code-archive.ts); absent: the single file `code`. */
  archive?: CodeArchive;
  /** Shown in syntax errors: the file the user gave. */
  filename: string;
  dependencies?: DependenciesFlag;
}

export interface Deployed {
  id: string;
  name: string;
  version: number;
  sha256: string;
  format: CheckPassed['format'];
  entry: string;
  /** The entry module's path in the code's archive; null: a single file. */
  module: string | null;
  limits: Limits;
  env: Record<string, string>;
  secrets: string[];
  placement: Placement;
  warnings: CheckPassed['warnings'];
  requestId: string;
  /** The dependency image the version runs in (null: the runtime image). */
  image: string | null;
  /** Whether that image existed already (no build); null without dependencies. */
  reused: boolean | null;
  /** False when the code is identical to the current version's: no new version was made. */
  changed: boolean;
}

/** `checked`: code already checked (and its config published) for a bulk deploy, so it is not checked again. */
export async function deployFunction(deps: FunctionDeps, actor: Actor, input: DeployInput, checked?: CheckedCode): Promise<Deployed> {
  const name = validateFunctionName(input.name);
  const limits = resolveLimits(input);
  const env = parseEnv(input.env);
  const secrets = parseSecretNames(input.secrets);
  const placement = parsePlacement(input.placement ?? {}) ?? NO_PLACEMENT;
  if (await deps.store.functions.current(actor.id, name)) throw nameTaken(name);
  await requireSecrets(deps.store, actor.id, secrets);
  return publish(deps, actor, { ...input, name, limits, env, secrets, placement, type: 'fn.deploy' }, checked, async (tx, version) => {
    await tx.functions.insert({ id: version.functionId, userId: actor.id, name });
    return 1;
  });
}

/** Flags not given keep the current version's values; the flavour only with the same code and entry (else it is detected anew). */
export interface UpdateInput extends VersionFlags {
  name: string;
  /** New code, or undefined to keep the current code and change only limits, entry or env. */
  code?: string;
  /** With new code shipped as a directory or a zip. */
  archive?: CodeArchive;
  filename?: string;
  dependencies?: DependenciesFlag;
}

/** A new immutable version; flags not given keep the current version's values. `checked` as for deployFunction. */
export async function updateFunction(deps: FunctionDeps, actor: Actor, input: UpdateInput, checked?: CheckedCode): Promise<Deployed> {
  const fn = await requireFunction(deps.store, actor, input.name);
  const cur = fn.current;
  const limits = resolveLimits(input, cur);
  const env = parseEnv(input.env, cur.env);
  const secrets = applySecretFlags(input.secrets, cur.secrets);
  const placement = parsePlacement(input.placement ?? {}) ?? cur.placement ?? NO_PLACEMENT;
  const newCode = checked ?? (input.code !== undefined ? { code: input.code, archive: input.archive } : undefined);
  const code = newCode?.code ?? cur.code;
  const archive = newCode ? newCode.archive : await currentArchive(deps, cur);
  // Code is the same when its hash is: a zip's, or the single file's.
  const sameCode = !newCode || deps.sha256(newCode.archive?.bytes ?? newCode.code) === cur.sha256;
  const entry = checked?.entry ?? input.entry ?? (sameCode ? cur.entry : undefined);
  const flavor = checked?.format ?? parseFlavor(input.flavor) ?? (sameCode && entry === cur.entry ? cur.format : undefined);
  // New requirements build (or reuse) their image first: an identical one leaves the version unchanged.
  const prepared =
    checked?.deps ??
    (input.dependencies
      ? await prepare(deps, input.dependencies)
      : input.dependencies === null
        ? NO_DEPS
        : { image: cur.image ?? null, requirements: cur.requirements ?? null, apt: cur.apt ?? null, reused: null });
  const unchanged =
    sameCode &&
    entry === cur.entry &&
    flavor === cur.format &&
    sameLimits(limits, cur) &&
    JSON.stringify(env) === JSON.stringify(cur.env) &&
    secrets.join() === [...(cur.secrets ?? [])].sort().join() &&
    prepared.image === (cur.image ?? null) &&
    samePlacement(placement, cur.placement);
  if (unchanged) {
    return {
      id: fn.id,
      name: fn.name,
      version: cur.version,
      sha256: cur.sha256,
      format: cur.format,
      entry: cur.entry,
      module: cur.module ?? null,
      limits,
      env,
      secrets,
      placement,
      warnings: [],
      requestId: '',
      image: prepared.image,
      reused: prepared.reused,
      changed: false,
    };
  }
  await requireSecrets(deps.store, actor.id, secrets);
  return publish(
    deps,
    actor,
    {
      name: fn.name,
      code,
      archive,
      filename: input.filename ?? cur.module ?? `${fn.name}.py`,
      entry,
      flavor,
      limits,
      env,
      secrets,
      placement,
      type: 'fn.update',
      functionId: fn.id,
      prepared,
      importCheck: input.importCheck,
    },
    checked,
    async (tx) => {
      const locked = await tx.functions.byNameForUpdate(actor.id, fn.name);
      if (!locked) throw functionNotFound(fn.name);
      const next = (await tx.functions.maxVersion(fn.id)) + 1;
      await tx.functions.setCurrent(fn.id, next);
      return next;
    },
  );
}

interface PublishInput {
  name: string;
  code: string;
  archive?: CodeArchive;
  filename: string;
  entry?: string;
  flavor?: string;
  limits: Limits;
  env: Record<string, string>;
  secrets: string[];
  placement: Placement;
  type: 'fn.deploy' | 'fn.update';
  functionId?: string;
  dependencies?: DependenciesFlag;
  /** Dependencies already settled (update): not prepared again. */
  prepared?: PreparedDeps;
  importCheck?: boolean;
}

type Repos = Parameters<Parameters<Store['transaction']>[0]>[0];

/** Code that passed the syntax check: it can be stored under any number of names without another check. */
export interface CheckedCode {
  code: string;
  archive?: CodeArchive;
  bytes: number;
  sha256: string;
  format: CheckPassed['format'];
  entry: string;
  warnings: CheckPassed['warnings'];
  /** The image it was checked in, when dependencies were given (or settled); absent: unchanged. */
  deps?: PreparedDeps;
}

/** What a rejected check records in its request row. */
export interface CheckRecord {
  requestId: string;
  started: Date;
  type: PublishInput['type'];
  params: Record<string, unknown>;
  functionId?: string;
  functionName?: string;
}

/**
 * Check → publish the code as a config → record, in that order: a syntax error stores
 * nothing but its request row, and a failed write removes a config no version needs.
 */
async function publish(
  deps: FunctionDeps,
  actor: Actor,
  input: PublishInput,
  checked: CheckedCode | undefined,
  claimVersion: (tx: Repos, v: { functionId: string }) => Promise<number>,
): Promise<Deployed> {
  const started = deps.clock.now();
  const requestId = deps.newId();
  const bytes = input.archive?.bytes.length ?? Buffer.byteLength(input.code);
  const record = { requestId, started, type: input.type, params: { name: input.name, bytes }, functionId: input.functionId, functionName: input.name };
  const source = checked ? { ...checked, deps: input.prepared ?? checked.deps } : await checkFunctionCode(deps, actor, input, record);
  deps.progress('publishing the code…');
  const created = await ensureCodeConfig(deps.swarm, await deps.store.meta.installationId(), source.sha256, source.archive?.bytes ?? source.code);
  try {
    return await recordVersion(deps, actor, source, { ...input, functionId: input.functionId ?? deps.newId() }, { requestId, started }, claimVersion);
  } catch (err) {
    if (created) await removeUnusedCodeConfigs(deps, [source.sha256]);
    throw err instanceof ConflictError ? nameTaken(input.name) : err;
  }
}

/**
 * The size limits, the dependency image (built or reused; its failure stores nothing), then
 * CPython's compiler in the image the version will run in; a rejected check is recorded as `record` says.
 */
export async function checkFunctionCode(
  deps: FunctionDeps,
  actor: Actor,
  input: {
    code: string;
    archive?: CodeArchive;
    filename: string;
    entry?: string;
    flavor?: string;
    dependencies?: DependenciesFlag;
    prepared?: PreparedDeps;
    /** The sandbox the import check runs in (default: the default limits, no env). */
    limits?: Limits;
    env?: Record<string, string>;
    importCheck?: boolean;
  },
  record: CheckRecord,
): Promise<CheckedCode> {
  const flavor = parseFlavor(input.flavor);
  if (input.archive) checkArchiveSize(input.archive, input.filename);
  const bytes = input.archive?.bytes.length ?? Buffer.byteLength(input.code);
  if (Buffer.byteLength(input.code) === 0) throw new UsageError(`${input.filename} is empty`, { hint: 'a function file defines main(data)' });
  if (!input.archive && bytes > MAX_CODE_BYTES)
    throw new UsageError(`${input.filename} is ${bytes} bytes; the limit is ${MAX_CODE_BYTES}`, { code: 'code_too_large', hint: 'move data out of the code and pass it as input' });
  const prepared = input.prepared ?? (input.dependencies ? await prepare(deps, input.dependencies) : input.dependencies === null ? NO_DEPS : undefined);
  const image = await versionImage(deps, prepared ?? {});
  deps.progress('checking the code…');
  try {
    const owner = { userId: actor.id, installation: await deps.store.meta.installationId() };
    const check = (signal?: AbortSignal) => checkCode(deps.swarm, image, input.code, input.entry, input.filename, owner, flavor, { importCheck: importCheckOf(input), archive: input.archive, signal });
    const checked = await (deps.interruptible ? deps.interruptible(check) : check());
    const sha256 = deps.sha256(input.archive?.bytes ?? input.code);
    return { code: input.code, ...(input.archive ? { archive: input.archive } : {}), bytes, sha256, ...checked, ...(prepared ? { deps: prepared } : {}) };
  } catch (err) {
    if (err instanceof UsageError) await recordRejected(deps, actor, record, err);
    throw err;
  }
}

const ONE_CPU = 1_000_000_000;

/** The import check's sandbox: the version's memory, CPUs (up to one) and environment; none with --no-import-check. */
function importCheckOf(input: { limits?: Limits; env?: Record<string, string>; importCheck?: boolean }) {
  if (input.importCheck === false) return undefined;
  const limits = input.limits ?? DEFAULT_LIMITS;
  // At most one CPU: the engine refuses a container more CPUs than this node has, while the
  // version may ask for more (another node runs it); the CPUs only pace the check.
  return { timeoutMs: IMPORT_CHECK_MS, memoryBytes: limits.memoryBytes, nanoCpus: Math.min(limits.nanoCpus, ONE_CPU), env: input.env ?? {} };
}

/** The current version's archive, for a new version of the same code (an update of flags only). */
async function currentArchive(deps: FunctionDeps, cur: { sha256: string; module?: string | null; code: string }): Promise<CodeArchive | undefined> {
  if (!cur.module) return undefined;
  const bytes = await deps.store.functions.archive(cur.sha256);
  if (!bytes) throw new NotFoundError(`the code archive ${cur.sha256.slice(0, 12)} is gone`, { hint: 'deploy the code again' });
  return { bytes, module: cur.module, unpackedBytes: 0, files: 0 };
}

async function prepare(deps: FunctionDeps, dependencies: DependencyInput): Promise<PreparedDeps> {
  if (!deps.files) throw new Error('dependencies need FunctionDeps.files');
  return prepareDependencies({ ...deps, files: deps.files }, dependencies, deps.registry, await deps.store.meta.installationId());
}

/**
 * One version of checked code, whose config already exists, in one transaction with its
 * request row; `claimVersion` inserts or locks the function and answers the version number.
 */
async function recordVersion(
  deps: Pick<FunctionDeps, 'store' | 'clock'>,
  actor: Actor,
  source: CheckedCode,
  target: { name: string; functionId: string; limits: Limits; env: Record<string, string>; secrets: string[]; placement: Placement; type: PublishInput['type'] },
  request: { requestId: string; started: Date },
  claimVersion: (tx: Repos, v: { functionId: string }) => Promise<number>,
): Promise<Deployed> {
  const { functionId, name, limits, env, secrets, placement } = target;
  const { sha256, entry, format, bytes } = source;
  const { image, requirements, apt, reused } = source.deps ?? NO_DEPS;
  const version = await deps.store.transaction(async (tx) => {
    // Locked until commit, so a concurrent `secret rm` cannot slip between check and insert.
    await requireSecrets(tx, actor.id, secrets, true);
    const v = await claimVersion(tx, { functionId });
    const module = source.archive?.module ?? null;
    await tx.functions.insertVersion({
      functionId,
      version: v,
      code: source.code,
      sha256,
      entry,
      format,
      ...limits,
      env,
      secrets,
      image,
      requirements,
      apt: apt ?? null,
      placement,
      archive: source.archive?.bytes ?? null,
      module,
    });
    await tx.requests.insert({
      ...finished(deps, request.requestId, request.started),
      userId: actor.id,
      type: target.type,
      params: {
        name,
        version: v,
        sha256,
        bytes,
        entry,
        format,
        ...(source.archive ? { module: source.archive.module, files: source.archive.files } : {}),
        ...(secrets.length ? { secrets } : {}),
        ...(image ? { image } : {}),
        ...(placement.constraints.length || placement.spread.length ? { placement } : {}),
      },
      functionId,
      functionName: name,
      functionVersion: v,
    });
    return v;
  });
  const module = source.archive?.module ?? null;
  return { id: functionId, name, version, sha256, format, entry, module, limits, env, secrets, placement, warnings: source.warnings, requestId: request.requestId, image, reused, changed: true };
}

/** The old system stored compile errors as the request's result; so does faasctl. */
async function recordRejected(deps: FunctionDeps, actor: Actor, record: CheckRecord, err: UsageError): Promise<void> {
  const end = deps.clock.now();
  await deps.store.requests.insert({
    id: record.requestId,
    userId: actor.id,
    type: record.type,
    status: 'developer_error',
    params: record.params,
    error: [err.message, err.detail].filter(Boolean).join('\n'),
    startedAt: record.started,
    finishedAt: end,
    durationMs: end.getTime() - record.started.getTime(),
    functionId: record.functionId,
    functionName: record.functionName,
  });
}

/** Makes an earlier version current again (default: the one before the current). */
export async function rollbackFunction(
  deps: Pick<FunctionDeps, 'store' | 'clock' | 'newId'>,
  actor: Actor,
  name: string,
  to?: number,
): Promise<{ name: string; from: number; to: number; requestId: string }> {
  const fn = await requireFunction(deps.store, actor, name);
  const target = to ?? fn.currentVersion - 1;
  if (!Number.isInteger(target) || target < 1) {
    throw new UsageError(to === undefined ? `"${fn.name}" has no version before v${fn.currentVersion}` : `invalid version ${to}`, { hint: `faasctl fn versions ${fn.name} lists them` });
  }
  if (target === fn.currentVersion) throw new UsageError(`v${target} is already the current version of "${fn.name}"`, { code: 'already_current' });
  const started = deps.clock.now();
  const requestId = deps.newId();
  await deps.store.transaction(async (tx) => {
    if (!(await tx.functions.byNameForUpdate(actor.id, fn.name))) throw functionNotFound(fn.name);
    if (!(await tx.functions.version(fn.id, target))) throw new NotFoundError(`"${fn.name}" has no version ${target}`, { hint: `faasctl fn versions ${fn.name} lists them` });
    await tx.functions.setCurrent(fn.id, target);
    await tx.requests.insert({
      ...finished(deps, requestId, started),
      userId: actor.id,
      type: 'fn.rollback',
      params: { name: fn.name, from: fn.currentVersion, to: target },
      functionId: fn.id,
      functionName: fn.name,
      functionVersion: target,
    });
  });
  return { name: fn.name, from: fn.currentVersion, to: target, requestId };
}

function sameLimits(a: Limits, b: Limits): boolean {
  return a.memoryBytes === b.memoryBytes && a.nanoCpus === b.nanoCpus && a.timeoutMs === b.timeoutMs;
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(`you already have a function named "${name}"`, { code: 'name_taken', hint: `faasctl fn update ${name} FILE makes a new version` });
}

function finished(deps: Pick<FunctionDeps, 'clock'>, id: string, started: Date) {
  const end = deps.clock.now();
  return { id, status: 'success' as const, startedAt: started, finishedAt: end, durationMs: end.getTime() - started.getTime() };
}
