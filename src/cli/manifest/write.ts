import type * as Yaml from 'yaml';
import type { CurrentFunction } from '../../db/functions-repo.js';
import { importExternal } from '../../base/external.js';
import { durationText, memoryText } from '../../core/functions/manifest.js';

/**
 * A functions file from what is deployed: the current version of each function, in a fixed
 * order of names and keys, so exporting the same functions twice writes the same bytes.
 * With a directory the code and requirements go into files beside the YAML; without one
 * they are inline (`source`, `requirementsText`) and the YAML alone recreates them.
 */

export interface ExportedFile {
  /** Relative to the YAML's directory. */
  path: string;
  text: string;
}

export async function exportManifest(fns: CurrentFunction[], options: { files: boolean }): Promise<{ yaml: string; files: ExportedFile[] }> {
  const yaml = await importExternal<typeof Yaml>('yaml');
  const files: ExportedFile[] = [];
  const functions: Record<string, unknown> = {};
  for (const fn of [...fns].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const v = fn.current;
    const entry: Record<string, unknown> = {};
    if (options.files) {
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
    if (fn.warmReplicas) entry.warm = { replicas: fn.warmReplicas, workers: fn.warmWorkers };
    if (v.placement?.constraints.length || v.placement?.spread.length) {
      entry.placement = { ...(v.placement.constraints.length ? { constraints: v.placement.constraints } : {}), ...(v.placement.spread.length ? { spread: v.placement.spread } : {}) };
    }
    functions[fn.name] = entry;
  }
  const doc = new yaml.Document({ version: 1, functions });
  doc.commentBefore = ' faasctl functions file: faasctl apply -f FILE recreates these (secret values are not in it: create them with faasctl secret create)';
  return { yaml: doc.toString({ lineWidth: 0 }), files };
}
