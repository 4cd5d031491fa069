import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../base/paths.js';
import { importExternal } from '../base/external.js';
import { contextFiles } from './python.js';

/**
 * An image of faasctl itself, for the dispatcher service: this Node binary, the built bundle,
 * the runtime's build context (its hash names the runtime image), the migrations and the
 * production dependencies, on the same Python base image the runtime uses. Built offline,
 * like the runtime image: nothing is pulled or downloaded.
 */

export const FAASCTL_REPO = 'faasctl/faasctl';
const ROOT = '/opt/faasctl';

const DOCKERFILE = (base: string) => `FROM ${base}
COPY . ${ROOT}/
RUN chmod 0755 ${ROOT}/node && ln -s ${ROOT}/node /usr/local/bin/node
WORKDIR ${ROOT}
ENTRYPOINT ["${ROOT}/node", "${ROOT}/bin/faasctl.cjs"]
`;

/** What the build makes and the package ships of faasctl itself (dockerode and pg have bundles of their own: scripts/build.mjs). */
const BUNDLE = ['bin/faasctl.cjs', 'dist/faasctl.cjs', 'dist/dockerode.cjs', 'dist/docker-modem.cjs', 'dist/pg.cjs'];

/** Paths (relative to the package) of the production dependencies, from the lock file. */
function productionModules(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && existsSync(join(root, path)))
    .map(([path]) => path);
}

/** Files of one dependency, without the nested node_modules (those are entries of their own). */
function moduleFiles(root: string, dir: string): string[] {
  return contextFiles(join(root, dir))
    .filter((f) => !f.includes('node_modules/'))
    .map((f) => `${dir}/${f}`);
}

/** The tag: a hash of what changes the image (bundle, lock file, runtime, Node version). */
export async function faasctlImageRef(registry?: string): Promise<string> {
  const { createHash } = await importExternal<typeof import('node:crypto')>('node:crypto');
  const root = packagePath();
  const hash = createHash('sha256').update(process.version);
  for (const f of [...BUNDLE, 'package-lock.json']) hash.update(readFileSync(join(root, f)));
  for (const f of contextFiles(join(root, 'runtimes'))) hash.update(f).update(readFileSync(join(root, 'runtimes', f)));
  const tag = hash.digest('hex').slice(0, 12);
  return `${registry ? `${registry.replace(/\/+$/, '')}/` : ''}${FAASCTL_REPO}:${tag}`;
}

/** The build context as files in memory (~100 MB, most of it the Node binary). */
export function faasctlImageFiles(baseImage: string): Map<string, Buffer> {
  const root = packagePath();
  const files = new Map<string, Buffer>();
  files.set('Dockerfile', Buffer.from(DOCKERFILE(baseImage)));
  files.set('node', readFileSync(process.execPath));
  const add = (rel: string) => {
    if (statSync(join(root, rel)).isFile()) files.set(rel, readFileSync(join(root, rel)));
  };
  for (const rel of ['package.json', ...BUNDLE]) add(rel);
  for (const dir of ['runtimes', 'migrations']) for (const f of contextFiles(join(root, dir))) add(`${dir}/${f}`);
  for (const dir of productionModules(root)) for (const f of moduleFiles(root, dir)) add(f);
  return files;
}
