import type * as Yaml from 'yaml';
import type { CurrentFunction, StoredDispatchPolicy } from '../../db/functions-repo.js';
import type { ScheduleRow } from '../../db/schedules-repo.js';
import { importExternal } from '../../base/external.js';
import { UsageError } from '../../base/errors.js';
import { formatDuration } from '../../base/durations.js';
import { aptList, durationText, memoryText } from '../../core/functions/manifest.js';

/**
 * A functions file from what is deployed: the current version of each function, in a fixed
 * order of names and keys, so exporting the same functions twice writes the same bytes.
 * With a directory the code and requirements go into files beside the YAML; without one
 * they are inline (`source`, `requirementsText`) and the YAML alone recreates them.
 */

export interface ExportedFile {
  /** Relative to the YAML's directory. */
  path: string;
  /** Text, or a zip's bytes. */
  text: string | Buffer;
}

/** What the functions' rows do not carry: read by the caller, keyed by function name. */
export interface ExportExtras {
  /** The zip of each function shipped as a directory or a zip. */
  archives: Map<string, Buffer>;
  policies: Map<string, StoredDispatchPolicy>;
  /** The schedules of the exported functions. */
  schedules: ScheduleRow[];
}

export async function exportManifest(fns: CurrentFunction[], options: { files: boolean }, extras: ExportExtras): Promise<{ yaml: string; files: ExportedFile[] }> {
  const yaml = await importExternal<typeof Yaml>('yaml');
  const files: ExportedFile[] = [];
  const functions: Record<string, unknown> = {};
  for (const fn of [...fns].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const v = fn.current;
    const entry: Record<string, unknown> = {};
    const archive = extras.archives.get(fn.name);
    if (archive && !options.files)
      throw new UsageError(`function "${fn.name}" was deployed from a directory or a zip, which a YAML file cannot hold inline`, {
        code: 'needs_dir',
        hint: `faasctl export --dir DIR writes ${fn.name}.zip beside DIR/faasctl.yaml`,
      });
    if (archive) {
      files.push({ path: `${fn.name}.zip`, text: archive });
      entry.code = `${fn.name}.zip`;
    } else if (options.files) {
      files.push({ path: `${fn.name}.py`, text: v.code });
      entry.code = `${fn.name}.py`;
    } else entry.source = v.code;
    entry.entry = v.entry;
    entry.flavor = v.format;
    entry.memory = memoryText(v.memoryBytes);
    entry.cpus = v.nanoCpus / 1e9;
    entry.timeout = durationText(v.timeoutMs);
    if (Object.keys(v.env).length) entry.env = Object.fromEntries(Object.entries(v.env).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (v.secrets?.length) entry.secrets = [...v.secrets].sort();
    if (v.requirements) {
      if (options.files) {
        files.push({ path: `${fn.name}.requirements.txt`, text: v.requirements });
        entry.requirements = `${fn.name}.requirements.txt`;
      } else entry.requirementsText = v.requirements;
    }
    const apt = aptList(v.apt);
    if (apt.length) entry.apt = apt;
    if (fn.warmReplicas) entry.warm = { replicas: fn.warmReplicas, workers: fn.warmWorkers };
    const policy = extras.policies.get(fn.name);
    if (policy?.retries !== null && policy?.retries !== undefined) entry.retries = policy.retries;
    if (policy?.retryOnError) entry.retryOnError = true;
    if (policy?.maxEventAgeMs) entry.maxEventAge = formatDuration(policy.maxEventAgeMs);
    if (policy?.maxConcurrency) entry.maxConcurrency = policy.maxConcurrency;
    if (v.placement?.constraints.length || v.placement?.spread.length) {
      entry.placement = { ...(v.placement.constraints.length ? { constraints: v.placement.constraints } : {}), ...(v.placement.spread.length ? { spread: v.placement.spread } : {}) };
    }
    functions[fn.name] = entry;
  }
  const schedules = Object.fromEntries([...extras.schedules].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => [s.name, scheduleEntry(s)]));
  const doc = new yaml.Document({ version: 1, functions, ...(extras.schedules.length ? { schedules } : {}) });
  doc.commentBefore = ' faasctl functions file: faasctl apply -f FILE recreates these (secret values are not in it: create them with faasctl secret create)';
  return { yaml: doc.toString({ lineWidth: 0 }), files };
}

/** A schedule as the file says it: only what differs from the defaults, in a fixed key order. */
function scheduleEntry(s: ScheduleRow): Record<string, unknown> {
  const e: Record<string, unknown> = { function: s.functionName };
  if (s.kind === 'cron') e.cron = s.expression;
  else if (s.kind === 'every') e.every = formatDuration(Number(s.expression));
  else e.at = s.expression;
  if (s.tz !== 'UTC' && s.kind !== 'every') e.tz = s.tz;
  const data: unknown = JSON.parse(s.data);
  if (data !== null) e.data = data;
  if (s.startAt) e.start = s.startAt.toISOString();
  if (s.endAt) e.end = s.endAt.toISOString();
  if (s.overlap !== 'skip') e.overlap = s.overlap;
  if (s.catchUp !== 'none') e.catchUp = s.catchUp;
  if (s.paused) e.paused = true;
  return e;
}
