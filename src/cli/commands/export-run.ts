import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireFunction } from '../../core/functions/lookup.js';
import { listFunctions } from '../../core/functions/queries.js';
import { listSchedules } from '../../core/schedules/schedules.js';
import { type ExportExtras, exportManifest } from '../manifest/write.js';
import type { Context } from '../context.js';
import { requireActor } from '../session.js';
import type { ExportOptions } from './apply-options.js';

export const MANIFEST_NAME = 'faasctl.yaml';

export async function runExport(ctx: Context, names: string[], opts: ExportOptions): Promise<void> {
  const { actor } = await requireActor(ctx);
  const store = await ctx.store();
  const wanted = names.length ? [...new Set(names)] : (await listFunctions(store, actor)).map((f) => f.name);
  const fns = [];
  const extras: ExportExtras = { archives: new Map(), policies: new Map(), schedules: [] };
  for (const name of wanted) {
    const fn = await requireFunction(store, actor, name);
    fns.push(fn);
    extras.policies.set(name, await store.functions.dispatchPolicy(fn.id));
    const archive = fn.current.module ? await store.functions.archive(fn.current.sha256) : undefined;
    if (archive) extras.archives.set(name, archive);
  }
  const exported = new Set(wanted);
  extras.schedules = (await listSchedules({ store }, actor)).filter((s) => exported.has(s.functionName));
  const { yaml, files } = await exportManifest(fns, { files: opts.dir !== undefined }, extras);
  if (opts.dir === undefined) {
    if (ctx.io.options.json) return ctx.io.json({ dir: null, functions: fns.map((f) => f.name).sort(), files: [], yaml });
    ctx.io.streams.stdout.write(yaml);
    return;
  }
  await mkdir(opts.dir, { recursive: true });
  const written = [join(opts.dir, MANIFEST_NAME), ...files.map((f) => join(opts.dir!, f.path))];
  await writeFile(written[0]!, yaml);
  for (const f of files) await writeFile(join(opts.dir, f.path), f.text);
  if (ctx.io.options.json) return ctx.io.json({ dir: opts.dir, functions: fns.map((f) => f.name).sort(), files: written });
  for (const path of written) ctx.io.out(path);
  ctx.io.info(`exported ${fns.length} function${fns.length === 1 ? '' : 's'}: faasctl apply -f ${written[0]} recreates them`);
}
