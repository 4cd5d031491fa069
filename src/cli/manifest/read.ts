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
import { manifestSchema, type ManifestFunction } from './schema.js';

/**
 * Reads a functions file: YAML (the `yaml` package, with its line counter), its shape checked by
 * zod, every value by faasctl's own parsers; paths (code, requirements, env files) are relative
 * to the file. Any error names file:line:col of the value at fault.
 */

type Path = Array<string | number>;

export async function readManifest(file: string): Promise<FunctionSpec[]> {
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
  const specs: FunctionSpec[] = [];
  for (const [name, f] of Object.entries(parsed.data.functions)) {
    const checked = async <T>(key: string | Path, fn: () => T | Promise<T>): Promise<T> => {
      const path = ['functions', name, ...(Array.isArray(key) ? key : [key])];
      try {
        return await fn();
      } catch (err) {
        const nameKey = path.length === 2 ? keyAt(doc, ['functions'], name) : undefined;
        if (isFaasctlError(err) && err.exitCode === 2) throw manifestError(`${nameKey === undefined ? at(path) : where(nameKey)}: ${err.message}`, err.hint);
        throw err;
      }
    };
    specs.push(await functionSpec(name, f, base, file, checked));
  }
  return specs;
}

type Checked = <T>(key: string | Path, fn: () => T | Promise<T>) => Promise<T>;

async function functionSpec(name: string, f: ManifestFunction, base: string, file: string, checked: Checked): Promise<FunctionSpec> {
  await checked([], () => validateFunctionName(name));
  const path = (p: string) => resolve(base, p);
  const source =
    f.code !== undefined
      ? await checked('code', () => readFunctionSource(path(f.code!), { name, requirements: f.requirements && path(f.requirements), pipIndexUrl: f.pipIndexUrl }))
      : { code: f.source!, filename: `${basename(file)}:${name}`, dependencies: undefined };
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
  return {
    name,
    code: source.code,
    filename: source.filename,
    entry: f.entry,
    flavor: f.flavor,
    limits,
    env,
    secrets: await checked('secrets', () => parseSecretNames(f.secrets)),
    dependencies: inlineRequirements ?? source.dependencies ?? null,
    placement,
    warm,
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
