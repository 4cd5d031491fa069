import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { SwarmClient } from '../../swarm/client.js';
import { PlatformError, UsageError } from '../../base/errors.js';
import type { Logger } from '../../base/ports.js';
import { DEPS_LABEL } from '../../swarm/labels.js';
import { aptFailure, pipFailure } from './install-failures.js';

/**
 * A function's Python dependencies: requirements.txt parsed, its local paths (source packages,
 * wheels, sdists, find-links directories) read through a port and copied into a build context
 * under fixed paths, and the whole content hashed. The hash names the image, so the same
 * dependencies make the same image, shared by every function and every deploy that needs them.
 * Over 300 lines on purpose: parsing, the build context and the hash are one contract (what goes
 * into the hash must be exactly what goes into the image), kept side by side.
 */

/** Reads the local paths a requirements file names (implemented over node:fs in the CLI layer). */
export interface LocalFiles {
  kind(path: string): Promise<'file' | 'dir' | undefined>;
  list(dir: string): Promise<Array<{ name: string; kind: 'file' | 'dir' | 'other' }>>;
  read(path: string): Promise<Buffer>;
}

/** The requirements as the user gave them. */
export interface DependencyInput {
  /** The text of requirements.txt ('' with Debian packages alone). */
  requirements: string;
  /** Debian packages (`apt.txt`, `--apt`), installed with apt-get before the requirements. */
  apt?: string[];
  /** Shown in errors: the path the user gave. */
  source: string;
  /** Relative local paths in the requirements resolve against this (the requirements file's directory). */
  baseDir: string;
  /** `--pip-index-url`: pip's index instead of its default. */
  indexUrl?: string;
}

export const DEPS_REPO = 'faasctl/python-deps';
/** Where the build context sits in the build container, and where the packages go. */
export const BUILD_DIR = '/tmp/faasctl-deps';
export const SITE_DIR = '/opt/faasctl/site';
/** The exit code of the build step when the runtime image has no pip. */
export const NO_PIP_EXIT = 97;
export const NO_PIP_MARKER = 'faasctl: no pip in the runtime image';
export const NO_APT_MARKER = 'faasctl: no apt-get in the runtime image';
/** Printed by each install step first, so a failure is read from its own installer's lines. */
export const STEP_MARKER = 'faasctl-step:';

type Line = { kind: 'keep'; text: string } | { kind: 'local'; option?: string; path: string; suffix: string; dirOnly: boolean; line: number };

const PATH_OPTIONS = new Set(['-f', '--find-links']);
const NESTED_OPTIONS = new Set(['-r', '--requirement', '-c', '--constraint']);
const EDITABLE_OPTIONS = new Set(['-e', '--editable']);
const ARCHIVE = /\.(whl|tar\.gz|tgz|tar\.bz2|zip)$/i;

/** requirements.txt → logical lines (continuations joined, comments and blanks dropped), local paths marked. */
export function parseRequirements(text: string, source: string): Line[] {
  const lines: Line[] = [];
  const physical = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < physical.length; i++) {
    const lineNo = i + 1;
    let logical = physical[i]!;
    while (logical.endsWith('\\') && i + 1 < physical.length) logical = logical.slice(0, -1) + physical[++i];
    const stripped = logical.replace(/(^|\s)#.*$/, '').trim();
    if (stripped) lines.push(parseLine(stripped, source, lineNo));
  }
  return lines;
}

function parseLine(text: string, source: string, line: number): Line {
  const where = `${source}:${line}`;
  const [first = '', ...rest] = text.split(/\s+/);
  const [option, inline] = first.startsWith('--') && first.includes('=') ? [first.slice(0, first.indexOf('=')), first.slice(first.indexOf('=') + 1)] : [first, undefined];
  if (EDITABLE_OPTIONS.has(option))
    throw new UsageError(`${where}: ${option} (editable) makes no sense in an image`, { code: 'bad_requirements', hint: 'name the package without -e: its files are copied into the image' });
  if (NESTED_OPTIONS.has(option))
    throw new UsageError(`${where}: ${option} (a nested file) is not supported`, { code: 'bad_requirements', hint: 'put every requirement into the one requirements file' });
  if (PATH_OPTIONS.has(option)) {
    const value = inline ?? rest.shift();
    if (!value) throw new UsageError(`${where}: ${option} needs a directory or URL`, { code: 'bad_requirements' });
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith('file:')) return { kind: 'keep', text };
    return { kind: 'local', option, path: fileUrlPath(value), suffix: rest.join(' '), dirOnly: true, line };
  }
  if (first.startsWith('-')) return { kind: 'keep', text };
  // A PEP 508 direct reference to a local file: `name @ file:///path`.
  const direct = /^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)\s*@\s*(file:\S+)(.*)$/.exec(text);
  if (direct) return { kind: 'local', path: fileUrlPath(direct[2]!), suffix: direct[3]!.trim(), dirOnly: false, line };
  if (isLocalPath(first)) {
    const extras = /^(.*?)(\[[^\]]*\])?$/.exec(first)!;
    return { kind: 'local', path: fileUrlPath(extras[1]!), suffix: `${extras[2] ?? ''}${rest.length ? ` ${rest.join(' ')}` : ''}`, dirOnly: false, line };
  }
  return { kind: 'keep', text };
}

function isLocalPath(token: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(token) && !token.startsWith('file:')) return false;
  return token.startsWith('./') || token.startsWith('../') || token.startsWith('/') || token.startsWith('file:') || token === '.' || ARCHIVE.test(token.replace(/\[[^\]]*\]$/, ''));
}

/** `file:///abs` → `/abs`, `file:rel` → `rel`; a plain path as is. */
function fileUrlPath(value: string): string {
  if (!value.startsWith('file:')) return value;
  const rest = value.slice('file:'.length);
  return decodeURIComponent(rest.startsWith('//') ? rest.replace(/^\/\/[^/]*/, '') : rest);
}

/** Names never copied from a local source directory: caches, VCS data and earlier build outputs. */
const SKIP_ANYWHERE = new Set(['__pycache__', '.git', '.hg', '.svn', '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.venv', 'node_modules']);
const SKIP_AT_TOP = new Set(['build', 'dist', '.eggs']);

function skipped(name: string, depth: number): boolean {
  if (SKIP_ANYWHERE.has(name) || /\.py[co]$/.test(name)) return true;
  return depth === 0 && (SKIP_AT_TOP.has(name) || name.endsWith('.egg-info'));
}

export interface DependencyPlan {
  /** The requirements as given, kept on the version for `fn show`. */
  requirements: string;
  /** The Debian packages, in the order given, each once. */
  apt: string[];
  /** Content hash: runtime image, rewritten requirements, index URL and every local file. */
  hash: string;
  /** `[registry/]faasctl/python-deps:<hash>` */
  tag: string;
  indexUrl?: string;
  /** The build context: Dockerfile, requirements.txt and the local files, by path. */
  context: Map<string, Buffer>;
}

/**
 * Reads and hashes everything the requirements name. A local path that does not exist is a
 * usage error here, before anything is built. `runtime` identifies the runtime image (its ID).
 */
export async function planDependencies(input: DependencyInput, files: LocalFiles, runtime: { ref: string; id: string }, registry?: string): Promise<DependencyPlan> {
  if (input.indexUrl !== undefined) validateIndexUrl(input.indexUrl);
  const context = new Map<string, Buffer>();
  const rewritten: string[] = [];
  let n = 0;
  for (const line of parseRequirements(input.requirements, input.source)) {
    if (line.kind === 'keep') {
      rewritten.push(line.text);
      continue;
    }
    const local = posix.resolve(input.baseDir, line.path);
    const kind = await files.kind(local);
    if (!kind || (line.dirOnly && kind !== 'dir')) {
      throw new UsageError(`${input.source}:${line.line}: ${line.path}: ${kind ? 'not a directory' : 'no such file or directory'}`, {
        code: 'bad_requirements',
        hint: `local paths resolve against ${input.baseDir}`,
      });
    }
    const target = `local/${n++}-${posix.basename(local) || 'root'}`;
    if (kind === 'file') context.set(target, await files.read(local));
    else for (const [rel, content] of await readTree(files, local, line.dirOnly)) context.set(`${target}/${rel}`, content);
    const inContext = `${BUILD_DIR}/${target}`;
    rewritten.push(line.option ? `${line.option} ${inContext}${line.suffix ? ` ${line.suffix}` : ''}` : `${inContext}${line.suffix.startsWith('[') ? '' : line.suffix ? ' ' : ''}${line.suffix}`);
  }
  const requirementsTxt = `${rewritten.join('\n')}\n`;
  const apt = [...new Set(input.apt ?? [])];
  const hash = dependencyHash(runtime.id, requirementsTxt, input.indexUrl, context, apt);
  context.set('requirements.txt', Buffer.from(requirementsTxt));
  context.set('Dockerfile', Buffer.from(dependencyDockerfile(runtime.ref, hash, input.indexUrl, apt, rewritten.length > 0)));
  return { requirements: input.requirements, apt, indexUrl: input.indexUrl, hash, tag: `${registry ? `${registry.replace(/\/+$/, '')}/` : ''}${DEPS_REPO}:${hash.slice(0, 24)}`, context };
}

/** A source directory's files, skipping caches and build outputs; a find-links directory's top level only. */
async function readTree(files: LocalFiles, dir: string, topOnly: boolean): Promise<Array<[string, Buffer]>> {
  const out: Array<[string, Buffer]> = [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    const entries = await files.list(rel ? `${dir}/${rel}` : dir);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (skipped(e.name, depth)) continue;
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.kind === 'file') out.push([path, await files.read(`${dir}/${path}`)]);
      else if (e.kind === 'dir' && !topOnly) await walk(path, depth + 1);
    }
  };
  await walk('', 0);
  return out;
}

/** Stable over file order; sensitive to every path and byte. */
export function dependencyHash(runtimeId: string, requirementsTxt: string, indexUrl: string | undefined, context: Map<string, Buffer>, apt: string[] = []): string {
  const h = createHash('sha256');
  const field = (value: string | Buffer) => h.update(`${Buffer.byteLength(value)}:`).update(value);
  field('faasctl-deps-v1');
  field(runtimeId);
  field(requirementsTxt);
  field(indexUrl ?? '');
  // Only when there are some: images of requirements alone keep the hashes they had.
  if (apt.length) field(`apt:${[...apt].sort().join(' ')}`);
  for (const path of [...context.keys()].sort()) {
    field(path);
    field(context.get(path)!);
  }
  return h.digest('hex');
}

function validateIndexUrl(url: string): void {
  if (!/^(https?|file):\/\/[^\s'"\\]+$/.test(url)) {
    throw new UsageError(`invalid --pip-index-url "${url}"`, { code: 'bad_index_url', hint: 'give an http(s):// or file:// URL of a package index (PEP 503 simple API)' });
  }
}

/**
 * FROM the runtime image: the packages go to SITE_DIR, which a .pth file in the interpreter's
 * site-packages puts on sys.path ahead of the system's packages. PYTHONPATH would not do: the
 * runtime starts the function's interpreter with -I, which ignores it. The context is removed
 * in the same step, so no layer keeps it; the build runs as root, the image as uid 10001.
 */
export function dependencyDockerfile(runtimeRef: string, hash: string, indexUrl?: string, apt: string[] = [], pipStep = true): string {
  const pth = `import sys; p = "${SITE_DIR}"; i = next((n for n, e in enumerate(sys.path) if e.endswith("-packages")), len(sys.path)); p in sys.path or sys.path.insert(i, p)`;
  const pip = [
    'python3 -m pip install --no-cache-dir --disable-pip-version-check --no-warn-script-location --no-input --progress-bar off --retries 1 --timeout 5',
    '$isolation',
    `--target ${SITE_DIR}`,
    ...(indexUrl ? [`--index-url '${indexUrl}'`] : []),
    '-r requirements.txt',
  ].join(' ');
  return [
    `FROM ${runtimeRef}`,
    'USER 0:0',
    `COPY . ${BUILD_DIR}`,
    ...(apt.length ? aptStep(apt) : []),
    ...(pipStep ? pipRun(pip, pth) : []),
    `RUN rm -rf ${BUILD_DIR}; find / -xdev -perm /6000 -type f -exec chmod a-s {} +`,
    'USER 10001:10001',
    `LABEL ${DEPS_LABEL}=${hash}`,
    '',
  ].join('\n');
}

/**
 * apt-get with no retry and a 10 s timeout, failing on any index it cannot fetch (else an
 * unreachable mirror shows up later as "Unable to locate package"); the image's own apt
 * sources, which name its Debian mirror. Package lists are removed in the same step.
 */
function aptStep(apt: string[]): string[] {
  const opts = '-o Acquire::Retries=0 -o Acquire::http::Timeout=10 -o Acquire::https::Timeout=10';
  return [
    `RUN set -e; echo '${STEP_MARKER} apt'; export DEBIAN_FRONTEND=noninteractive; \\`,
    `    command -v apt-get >/dev/null 2>&1 || { echo '${NO_APT_MARKER}' >&2; exit ${NO_PIP_EXIT}; }; \\`,
    `    apt-get update --error-on=any ${opts}; \\`,
    `    apt-get install -y --no-install-recommends ${opts} ${apt.join(' ')}; \\`,
    '    rm -rf /var/lib/apt/lists/*',
  ];
}

/** pip with one retry (which prints why the index could not be reached) and a 5 s timeout. */
function pipRun(pip: string, pth: string): string[] {
  return [
    // The warning about pip as root is moot in a build step (env, not --root-user-action: old pips reject unknown flags).
    `RUN set -e; echo '${STEP_MARKER} pip'; cd ${BUILD_DIR}; export PIP_ROOT_USER_ACTION=ignore; \\`,
    `    python3 -m pip --version >/dev/null 2>&1 || { echo '${NO_PIP_MARKER}' >&2; exit ${NO_PIP_EXIT}; }; \\`,
    // Debian's and most images' setuptools+wheel build local source packages without an index.
    "    isolation=; if python3 -c 'import setuptools, wheel' >/dev/null 2>&1; then isolation=--no-build-isolation; fi; \\",
    `    ${pip}; \\`,
    `    site=$(python3 -c 'import site; print(site.getsitepackages()[0])'); mkdir -p "$site"; \\`,
    `    printf '%s\\n' '${pth}' > "$site/faasctl-deps.pth"; \\`,
    `    chmod -R a+rX ${SITE_DIR} "$site/faasctl-deps.pth"`,
  ];
}

/** The one line a failed build is reported with: the real cause from the failed step's installer, or the lack of it. */
export function buildFailureMessage(lines: string[], indexUrl?: string): { noPip: boolean; message: string; installer?: 'pip' | 'apt' } | undefined {
  // Whole lines only: the builder also echoes the step's command, markers included.
  if (lines.some((l) => l.trim() === NO_PIP_MARKER)) return { noPip: true, message: NO_PIP_MARKER };
  if (lines.some((l) => l.trim() === NO_APT_MARKER)) return { noPip: true, message: NO_APT_MARKER, installer: 'apt' };
  const step = lines.map((l) => l.trim()).lastIndexOf(`${STEP_MARKER} apt`);
  const pipAt = lines.map((l) => l.trim()).lastIndexOf(`${STEP_MARKER} pip`);
  if (step >= 0 && step > pipAt) {
    const failure = aptFailure(lines.slice(step));
    return failure && { noPip: false, installer: 'apt', message: `Debian packages failed to install: ${failure.message}` };
  }
  const failure = pipFailure(pipAt >= 0 ? lines.slice(pipAt) : lines, indexUrl);
  if (failure) return { noPip: false, installer: 'pip', message: `requirements failed to install: ${failure.message}` };
  // No step marker seen (a builder that dropped it): apt's own error lines still say it.
  const apt = pipAt < 0 ? aptFailure(lines) : undefined;
  return apt && { noPip: false, installer: 'apt', message: `Debian packages failed to install: ${apt.message}` };
}

/** What a version runs in: its dependency image, or the runtime image. */
export interface PreparedDeps {
  /** null: the runtime image itself. */
  image: string | null;
  requirements: string | null;
  /** The Debian packages in it, one a line; null: none. */
  apt?: string | null;
  /** true when an image of the same dependencies existed and was used as is; null without dependencies. */
  reused: boolean | null;
}

export const NO_DEPS: PreparedDeps = { image: null, requirements: null, reused: null };

export interface DependencyDeps {
  swarm: SwarmClient;
  log: Logger;
  progress: (text: string) => void;
  files: LocalFiles;
  /** The runtime image reference this command uses. */
  runtimeImage: () => Promise<string>;
}

/**
 * The image of these dependencies: reused when the engine has it (same hash, same tag), else
 * built. With a registry it is pushed, and the version names it by digest. A failed build
 * tags nothing (the builder tags only on success, and removes its intermediate containers).
 */
export async function prepareDependencies(deps: DependencyDeps, input: DependencyInput, registry?: string, installation?: string): Promise<PreparedDeps> {
  const runtimeRef = await deps.runtimeImage();
  const runtimeId = await deps.swarm.imageId(runtimeRef);
  if (!runtimeId) throw new PlatformError(`the runtime image ${runtimeRef} is not on ${deps.swarm.endpoint}`, { code: 'runtime_image_missing', hint: 'run faasctl up to build it' });
  const plan = await planDependencies(input, deps.files, { ref: runtimeRef, id: runtimeId }, registry);
  let reused = await deps.swarm.imageExists(plan.tag);
  if (reused) {
    deps.log.debug(`dependencies: ${plan.tag} exists, reused (no build)`);
  } else {
    deps.progress(`installing the ${plan.apt.length ? 'Debian packages and ' : ''}requirements into ${plan.tag}…`);
    await buildDependencyImage(deps, plan);
  }
  // An installation's own tag on the shared image: what its versions name, and what its gc
  // may remove without touching another installation's (or a `fn run`'s) use of the image.
  const tag = installation ? installationTag(plan.tag, installation) : plan.tag;
  if (tag !== plan.tag) await deps.swarm.tagImage(plan.tag, tag);
  const apt = plan.apt.length ? plan.apt.join('\n') : null;
  if (!registry) return { image: tag, requirements: plan.requirements, apt, reused };
  let pinned = await deps.swarm.pushedDigest(tag);
  if (!pinned) {
    deps.progress(`pushing ${tag}…`);
    pinned = await deps.swarm.pushImage(tag, (l) => deps.log.debug(`push: ${l}`));
  }
  if (!reused) reused = false;
  return { image: pinned, requirements: plan.requirements, apt, reused };
}

/** `[registry/]faasctl/python-deps:<hash>` → `…:<hash>-<installation>`. */
export function installationTag(contentTag: string, installation: string): string {
  return `${contentTag}-${installation.slice(0, 12)}`;
}

/**
 * The dependency image tags an installation's gc removes: its own tags that none of its
 * versions names (by tag or, with a registry, by digest), then a content tag that no
 * installation tags any more. Untagging leaves an image other tags still hold.
 */
export function unusedDependencyTags(images: Array<{ tags: string[]; digests: string[] }>, installation: string, inUse: Set<string>): string[] {
  const own = new RegExp(`/?${DEPS_REPO.replace('/', '\\/')}:([0-9a-f]{24})-${installation.slice(0, 12)}$`);
  const anyInstallation = /:([0-9a-f]{24})-[0-9a-f]{12}$/;
  const unused: string[] = [];
  for (const image of images) {
    const used = image.digests.some((d) => inUse.has(d));
    const mine = image.tags.filter((t) => own.test(t) && !used && !inUse.has(t));
    unused.push(...mine);
    const left = image.tags.filter((t) => anyInstallation.test(t) && !mine.includes(t));
    if (mine.length && !left.length) unused.push(...image.tags.filter((t) => /:[0-9a-f]{24}$/.test(t)));
  }
  return unused;
}

async function buildDependencyImage(deps: DependencyDeps, plan: DependencyPlan): Promise<void> {
  const lines: string[] = [];
  try {
    await deps.swarm.buildImageFromFiles(plan.context, plan.tag, (raw) => {
      // The builder colours a step's stderr.
      const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
      lines.push(line);
      deps.log.debug(`build: ${line}`);
    });
  } catch (err) {
    const failure = buildFailureMessage(lines, plan.indexUrl);
    if (!failure) throw err;
    if (failure.noPip && failure.installer === 'apt') {
      throw new PlatformError(`${failure.message}: Debian packages cannot be installed`, { code: 'no_apt', hint: 'faasctl up --base-image IMAGE with a Debian-based IMAGE' });
    }
    if (failure.noPip) {
      throw new PlatformError(`${failure.message}: requirements cannot be installed`, {
        code: 'no_pip',
        hint: 'faasctl up --base-image IMAGE with an IMAGE whose python3 has pip (python:3.12-slim has it; on Debian, apt-get install python3-pip)',
      });
    }
    if (failure.installer === 'apt') throw new UsageError(failure.message, { code: 'apt_failed', hint: "run with --debug to see apt-get's output; nothing was stored" });
    throw new UsageError(failure.message, { code: 'requirements_failed', hint: "run with --debug to see pip's output; nothing was stored" });
  }
}

/** The image a version runs in (cold, warm, bulk, the syntax check). */
export async function versionImage(deps: { runtimeImage: () => Promise<string> }, version: { image?: string | null }): Promise<string> {
  return version.image ?? (await deps.runtimeImage());
}
