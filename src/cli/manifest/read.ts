import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type * as Yaml from 'yaml';
import type * as Zod from 'zod';
import { importExternal } from '../../base/external.js';
import { isFaasctlError, UsageError } from '../../base/errors.js';
import { validateFunctionName } from '../../base/names.js';
import { parseEnv, resolveLimits } from '../../core/functions/limits.js';
import { DEFAULT_WARM, type FunctionSpec } from '../../core/functions/manifest.js';
import { parsePlacement } from '../../core/functions/placement.js';
import { parseSecretNames } from '../../core/functions/secrets.js';
import { parseReplicas, parseWorkers } from '../../core/functions/warm-replicas.js';
import { NO_PLACEMENT } from '../../base/placement.js';
import { readEnvFile } from '../env-file.js';
import { textOf } from '../text-input.js';
import { readFunctionSource } from '../commands/fn/source.js';
import { parseDuration } from '../../base/durations.js';
import { aptFlagPackages } from '../../core/functions/apt-packages.js';
import type { DependencyInput } from '../../core/functions/dependencies.js';
import { MAX_WARM_INPUT_BYTES, validateInput } from '../../core/invocations/invoke.js';
import { canonicalJson, type ScheduleFileSpec } from '../../core/schedules/manifest.js';
import { checkCron, checkEvery } from '../../core/schedules/slots.js';
import { checkZone, parseInstant } from '../../core/schedules/zones.js';
import { manifestSchema, type ManifestFunction, type ManifestSchedule } from './schema.js';

/**
 * Reads a functions file: YAML (the `yaml` package, with its line counter), its shape checked by
 * zod, every value by faasctl's own parsers; paths (code, requirements, env files) are relative
 * to the file. Any error names file:line:col of the value at fault.
 */

type Path = Array<string | number>;

export interface Manifest {
  functions: FunctionSpec[];
  schedules: ScheduleFileSpec[];
}

export async function readManifest(file: string): Promise<Manifest> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { code: 'bad_file', hint: 'faasctl export --dir DIR writes one' });
  }
  const text = textOf(bytes, file, 'a functions file is YAML text', 'give the path of a YAML file');
  const [yaml, z] = await Promise.all([importExternal<typeof Yaml>('yaml'), importExternal<typeof Zod>('zod')]);
  const lineCounter = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  const [first] = doc.errors;
  if (first) throw manifestError(`${where(first.pos[0])}: ${first.message.split('\n')[0]}`);
  /** The position of the value at path, else of its nearest parent that exists. */
  const at = (path: Path): string => {
    for (let p = [...path]; ; p = p.slice(0, -1)) {
      const node = p.length ? doc.getIn(p, true) : doc.contents;
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return where(range[0]);
      if (!p.length) return `${file}:1:1`;
    }
  };
  const parsed = manifestSchema(z).safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path as Path;
    // An unknown key is shown where it is written, not where its map starts.
    const unknown = issue.code === 'unrecognized_keys' ? keyAt(doc, path, issue.keys[0]!) : undefined;
    throw manifestError(`${unknown === undefined ? at(path) : where(unknown)}: ${path.length ? `${path.join('.')}: ` : ''}${issue.message}`);
  }
  const base = dirname(resolve(file));
  /** Runs a value's own parser; its usage error is the manifest's, at the value's line. */
  const checkedIn =
    (section: string, name: string): Checked =>
    async (key, fn) => {
      const path = [section, name, ...(Array.isArray(key) ? key : [key])];
      try {
        return await fn();
      } catch (err) {
        const nameKey = path.length === 2 ? keyAt(doc, [section], name) : undefined;
        if (isFaasctlError(err) && err.exitCode === 2) throw manifestError(`${nameKey === undefined ? at(path) : where(nameKey)}: ${err.message}`, err.hint);
        throw err;
      }
    };
  const functions: FunctionSpec[] = [];
  for (const [name, f] of Object.entries(parsed.data.functions)) functions.push(await functionSpec(name, f, base, file, checkedIn('functions', name)));
  const schedules: ScheduleFileSpec[] = [];
  for (const [name, s] of Object.entries(parsed.data.schedules ?? {})) schedules.push(await scheduleSpec(name, s, checkedIn('schedules', name)));
  return { functions, schedules };
}

type Checked = <T>(key: string | Path, fn: () => T | Promise<T>) => Promise<T>;

/** A schedule as stored: each value through the parsers `schedule create` uses. */
async function scheduleSpec(name: string, s: ManifestSchedule, checked: Checked): Promise<ScheduleFileSpec> {
  const tz = await checked('tz', () => checkZone(s.tz ?? 'UTC'));
  const timing = await checked(s.cron !== undefined ? 'cron' : s.every !== undefined ? 'every' : 'at', () =>
    s.cron !== undefined
      ? { kind: 'cron' as const, expression: checkCron(s.cron, tz) }
      : s.every !== undefined
        ? { kind: 'every' as const, expression: checkEvery(s.every) }
        : { kind: 'at' as const, expression: parseInstant(s.at!, tz, 'at').toISOString() },
  );
  if (timing.kind === 'every' && s.tz !== undefined) await checked('tz', () => Promise.reject(new UsageError('tz goes with cron or at (every counts real time)')));
  const data = await checked('data', () => canonicalJson(validateInput(JSON.stringify(s.data ?? null), MAX_WARM_INPUT_BYTES)));
  const startAt = s.start === undefined ? null : await checked('start', () => parseInstant(s.start!, tz, 'start'));
  const endAt = s.end === undefined ? null : await checked('end', () => parseInstant(s.end!, tz, 'end'));
  if (startAt && endAt && endAt <= startAt) await checked('end', () => Promise.reject(new UsageError('end must come after start')));
  return { name, fn: s.function, ...timing, tz, data, startAt, endAt, overlap: s.overlap ?? 'skip', catchUp: s.catchUp ?? 'none', paused: s.paused ?? false };
}

async function functionSpec(name: string, f: ManifestFunction, base: string, file: string, checked: Checked): Promise<FunctionSpec> {
  await checked([], () => validateFunctionName(name));
  const path = (p: string) => resolve(base, p);
  const source =
    f.code !== undefined
      ? await checked('code', () => readFunctionSource(path(f.code!), { name, requirements: f.requirements && path(f.requirements), apt: f.apt, pipIndexUrl: f.pipIndexUrl }))
      : { code: f.source!, filename: `${basename(file)}:${name}`, dependencies: undefined, archive: undefined };
  const inlineRequirements =
    f.requirementsText === undefined
      ? undefined
      : { requirements: f.requirementsText, source: `${file} (${name}.requirementsText)`, baseDir: base, ...(f.pipIndexUrl ? { indexUrl: f.pipIndexUrl } : {}) };
  const envFromFiles: string[] = [];
  for (const [i, envFile] of (f.envFiles ?? []).entries()) envFromFiles.push(...(await checked(['envFiles', i], () => readEnvFile(path(envFile)))));
  // The file's own env wins over its env files, as --env wins over --env-file.
  const env = await checked('env', () => parseEnv([...envFromFiles, ...Object.entries(f.env ?? {}).map(([k, v]) => `${k}=${String(v)}`)]));
  const limits = await checked(f.memory !== undefined ? 'memory' : f.cpus !== undefined ? 'cpus' : 'timeout', () =>
    resolveLimits({ memory: f.memory === undefined ? undefined : String(f.memory), cpus: f.cpus === undefined ? undefined : String(f.cpus), timeout: f.timeout }),
  );
  const placement = await checked('placement', () => parsePlacement({ constraint: f.placement?.constraints, placementPref: (f.placement?.spread ?? []).map((s) => `spread=${s}`) }) ?? NO_PLACEMENT);
  const warm = await checked('warm', () => ({ replicas: parseReplicas(f.warm?.replicas ?? 0, 'warm.replicas'), workers: parseWorkers(f.warm?.workers) ?? DEFAULT_WARM.workers }));
  // Code from a path has its apt.txt and the file's apt list merged by readFunctionSource; inline code has only the list.
  const apt = f.code !== undefined ? (source.dependencies?.apt ?? []) : await checked('apt', () => aptFlagPackages(f.apt));
  const requirements: DependencyInput | null = inlineRequirements ?? source.dependencies ?? null;
  const dependencies: DependencyInput | null = apt.length ? { ...(requirements ?? { requirements: '', source: `${file} (${name}.apt)`, baseDir: base }), apt } : requirements;
  const maxEventAgeMs = f.maxEventAge === undefined ? null : await checked('maxEventAge', () => parseDuration(f.maxEventAge!, 'maxEventAge'));
  return {
    name,
    code: source.code,
    ...(source.archive ? { archive: source.archive } : {}),
    sha256: createHash('sha256')
      .update(source.archive?.bytes ?? source.code)
      .digest('hex'),
    filename: source.filename,
    entry: f.entry,
    flavor: f.flavor,
    limits,
    env,
    secrets: await checked('secrets', () => parseSecretNames(f.secrets)),
    dependencies,
    placement,
    warm,
    apt: [...new Set(dependencies?.apt ?? [])].sort(),
    policy: { retries: f.retries ?? null, retryOnError: f.retryOnError ?? false, maxEventAgeMs, maxConcurrency: f.maxConcurrency ?? null },
  };
}

/** Where the key of a map at path is written (its offset), when it is there. */
function keyAt(doc: Yaml.Document, path: Path, key: string): number | undefined {
  const map = path.length ? doc.getIn(path, true) : doc.contents;
  const items = (map as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> } | null)?.items ?? [];
  return items.find((pair) => pair.key?.value === key)?.key?.range?.[0];
}

function manifestError(message: string, hint?: string): UsageError {
  return new UsageError(message, { code: 'bad_manifest', hint: hint ?? 'see "Keeping functions in git" in the README for the file format' });
}
