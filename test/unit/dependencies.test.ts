import { describe, expect, it } from 'vitest';
import { buildFailureMessage, dependencyDockerfile, type LocalFiles, NO_PIP_MARKER, parseRequirements, planDependencies, unusedDependencyTags } from '../../src/core/functions/dependencies.js';
import { UsageError } from '../../src/base/errors.js';

/** An in-memory file system: path → content; directories are implied by the paths. */
function memoryFiles(tree: Record<string, string>): LocalFiles {
  const isDir = (p: string) => Object.keys(tree).some((k) => k.startsWith(`${p}/`));
  return {
    kind: async (p) => (p in tree ? 'file' : isDir(p) ? 'dir' : undefined),
    list: async (dir) => {
      const names = new Set(
        Object.keys(tree)
          .filter((k) => k.startsWith(`${dir}/`))
          .map((k) => k.slice(dir.length + 1).split('/')[0]!),
      );
      return [...names].reverse().map((name) => ({ name, kind: `${dir}/${name}` in tree ? ('file' as const) : ('dir' as const) }));
    },
    read: async (p) => Buffer.from(tree[p]!),
  };
}

const RUNTIME = { ref: 'faasctl/runtime-python:abc', id: 'sha256:runtime1' };
const input = (requirements: string, extra: { indexUrl?: string } = {}) => ({ requirements, source: 'requirements.txt', baseDir: '/fn', ...extra });
const TREE = {
  '/fn/mylib/pyproject.toml': '[project]\nname = "mylib"\n',
  '/fn/mylib/src/mylib/__init__.py': 'def answer(): return 42\n',
  '/fn/mylib/src/mylib/__pycache__/x.cpython-311.pyc': 'junk',
  '/fn/mylib/build/lib/old.py': 'stale',
  '/fn/mylib/mylib.egg-info/PKG-INFO': 'stale',
  '/fn/mylib/.git/HEAD': 'ref',
  '/fn/wheels/a-1.0-py3-none-any.whl': 'wheel-bytes',
  '/fn/wheels/sub/ignored.whl': 'not listed by pip',
  '/fn/dist/b-2.0.tar.gz': 'sdist',
};

describe('parseRequirements', () => {
  it('joins continuations, drops comments and blanks, and marks local paths', () => {
    const lines = parseRequirements(
      '# top\nrequests==2.31 # pinned\n\n./mylib[fast] ; python_version > "3"\n-f ./wheels\n--find-links=../w\nfoo \\\n  >=1\nbar @ file:///opt/bar\n--no-index\nhttps://example.invalid/x.whl\n',
      'r.txt',
    );
    expect(lines).toEqual([
      { kind: 'keep', text: 'requests==2.31' },
      { kind: 'local', path: './mylib', suffix: '[fast] ; python_version > "3"', dirOnly: false, line: 4 },
      { kind: 'local', option: '-f', path: './wheels', suffix: '', dirOnly: true, line: 5 },
      { kind: 'local', option: '--find-links', path: '../w', suffix: '', dirOnly: true, line: 6 },
      { kind: 'keep', text: 'foo   >=1' },
      { kind: 'local', path: '/opt/bar', suffix: '', dirOnly: false, line: 9 },
      { kind: 'keep', text: '--no-index' },
      { kind: 'keep', text: 'https://example.invalid/x.whl' },
    ]);
  });

  it('rejects -e and nested files with one line naming the place', () => {
    expect(() => parseRequirements('ok\n-e ./mylib\n', 'r.txt')).toThrow(/^r\.txt:2: -e \(editable\) makes no sense in an image$/);
    expect(() => parseRequirements('-r other.txt', 'r.txt')).toThrow(/r\.txt:1: -r \(a nested file\) is not supported/);
    expect(() => parseRequirements('--constraint=c.txt', 'r.txt')).toThrow(/--constraint/);
    expect(() => parseRequirements('-f', 'r.txt')).toThrow(UsageError);
  });

  it('treats archives and file: URLs as local', () => {
    expect(parseRequirements('dist/b-2.0.tar.gz\nfile:wheels/a.whl\n', 'r')).toMatchObject([
      { kind: 'local', path: 'dist/b-2.0.tar.gz' },
      { kind: 'local', path: 'wheels/a.whl' },
    ]);
  });
});

describe('planDependencies', () => {
  it('copies local paths into the context, rewrites them and skips caches and build outputs', async () => {
    const plan = await planDependencies(input('./mylib\n-f wheels\ndist/b-2.0.tar.gz\nsix\n'), memoryFiles(TREE), RUNTIME);
    expect([...plan.context.keys()].sort()).toEqual([
      'Dockerfile',
      'local/0-mylib/pyproject.toml',
      'local/0-mylib/src/mylib/__init__.py',
      'local/1-wheels/a-1.0-py3-none-any.whl',
      'local/2-b-2.0.tar.gz',
      'requirements.txt',
    ]);
    expect(plan.context.get('requirements.txt')!.toString()).toBe('/tmp/faasctl-deps/local/0-mylib\n-f /tmp/faasctl-deps/local/1-wheels\n/tmp/faasctl-deps/local/2-b-2.0.tar.gz\nsix\n');
    expect(plan.tag).toMatch(/^faasctl\/python-deps:[0-9a-f]{24}$/);
    expect(plan.requirements).toBe('./mylib\n-f wheels\ndist/b-2.0.tar.gz\nsix\n');
    const registry = await planDependencies(input('six\n'), memoryFiles(TREE), RUNTIME, '10.0.0.5:5000/');
    expect(registry.tag).toMatch(/^10\.0\.0\.5:5000\/faasctl\/python-deps:/);
  });

  it('hashes stably, ignores comments, and changes with any content, path, index or runtime', async () => {
    const hash = async (req: string, tree = TREE, runtime = RUNTIME, indexUrl?: string) => (await planDependencies(input(req, { indexUrl }), memoryFiles(tree), runtime)).hash;
    const base = await hash('./mylib\n');
    expect(await hash('# a comment\n./mylib   \n')).toBe(base);
    expect(await hash('./mylib\n', { ...TREE, '/fn/mylib/src/mylib/__pycache__/y.pyc': 'more junk' })).toBe(base);
    expect(await hash('./mylib\n', { ...TREE, '/fn/mylib/src/mylib/__init__.py': 'def answer(): return 43\n' })).not.toBe(base);
    expect(await hash('./mylib\n', { ...TREE, '/fn/mylib/src/mylib/extra.py': '' })).not.toBe(base);
    expect(await hash('./mylib\n', TREE, { ...RUNTIME, id: 'sha256:runtime2' })).not.toBe(base);
    expect(await hash('./mylib\n', TREE, RUNTIME, 'http://10.0.0.5:3141/simple')).not.toBe(base);
    expect(await hash('./mylib\nsix\n')).not.toBe(base);
  });

  it('rejects a missing local path before anything is built, and a bad index URL', async () => {
    await expect(planDependencies(input('six\n./nope\n'), memoryFiles(TREE), RUNTIME)).rejects.toThrow(/^requirements\.txt:2: \.\/nope: no such file or directory$/);
    await expect(planDependencies(input('-f dist/b-2.0.tar.gz\n'), memoryFiles(TREE), RUNTIME)).rejects.toThrow(/not a directory/);
    await expect(planDependencies(input('six\n', { indexUrl: "http://x/'; rm -rf /" }), memoryFiles(TREE), RUNTIME)).rejects.toThrow(/invalid --pip-index-url/);
  });
});

describe('the build', () => {
  it('builds FROM the runtime image as root, runs as 10001 and labels the hash', () => {
    const text = dependencyDockerfile('faasctl/runtime-python:abc', 'h1', 'http://10.0.0.5:3141/simple');
    expect(text.split('\n')[0]).toBe('FROM faasctl/runtime-python:abc');
    expect(text).toMatch(/--target \/opt\/faasctl\/site --index-url 'http:\/\/10\.0\.0\.5:3141\/simple' -r requirements\.txt/);
    expect(text).toMatch(/faasctl-deps\.pth/);
    expect(text).toMatch(/rm -rf \/tmp\/faasctl-deps/);
    expect(text).toMatch(/chmod a-s/);
    expect(text).toMatch(/USER 10001:10001\nLABEL io\.faasctl\.deps=h1\n$/);
  });

  it("reports the real cause from pip's output, or the lack of pip", () => {
    expect(
      buildFailureMessage([
        'Step 4/6 : RUN …',
        'ERROR: Could not find a version that satisfies the requirement nosuchpkg==1.0 (from versions: none)',
        'ERROR: No matching distribution found for nosuchpkg==1.0',
        '',
      ]),
    ).toEqual({ noPip: false, installer: 'pip', message: 'requirements failed to install: no such package: nosuchpkg==1.0 (pip found no version of it)' });
    expect(buildFailureMessage(['ERROR: Invalid requirement: "x y"'])).toEqual({ noPip: false, installer: 'pip', message: 'requirements failed to install: ERROR: Invalid requirement: "x y"' });
    expect(buildFailureMessage([`Step 4/6 : RUN … echo '${NO_PIP_MARKER}'`, NO_PIP_MARKER])).toEqual({ noPip: true, message: NO_PIP_MARKER });
    expect(buildFailureMessage([`Step 4/6 : RUN … echo '${NO_PIP_MARKER}'`])).toBeUndefined();
  });
});

describe('unusedDependencyTags (gc)', () => {
  const A = 'aaaaaaaaaaaa0000',
    B = 'bbbbbbbbbbbb0000';
  const h1 = '1'.repeat(24),
    h2 = '2'.repeat(24);
  const img = (tags: string[], digests: string[] = []) => ({ tags, digests });

  it("removes this installation's unused tags, and the content tag once no installation tags the image", () => {
    const images = [
      img([`faasctl/python-deps:${h1}`, `faasctl/python-deps:${h1}-aaaaaaaaaaaa`]),
      img([`faasctl/python-deps:${h2}`, `faasctl/python-deps:${h2}-aaaaaaaaaaaa`, `faasctl/python-deps:${h2}-bbbbbbbbbbbb`]),
    ];
    expect(unusedDependencyTags(images, A, new Set())).toEqual([`faasctl/python-deps:${h1}-aaaaaaaaaaaa`, `faasctl/python-deps:${h1}`, `faasctl/python-deps:${h2}-aaaaaaaaaaaa`]);
    // Another installation's gc touches only its own tag.
    expect(unusedDependencyTags(images, B, new Set())).toEqual([`faasctl/python-deps:${h2}-bbbbbbbbbbbb`]);
  });

  it('keeps a tag a version names, directly or by its registry digest', () => {
    const digest = `10.0.0.5:5000/faasctl/python-deps@sha256:${'c'.repeat(64)}`;
    const images = [
      img([`10.0.0.5:5000/faasctl/python-deps:${h1}`, `10.0.0.5:5000/faasctl/python-deps:${h1}-aaaaaaaaaaaa`], [digest]),
      img([`faasctl/python-deps:${h2}`, `faasctl/python-deps:${h2}-aaaaaaaaaaaa`]),
    ];
    expect(unusedDependencyTags(images, A, new Set([digest, `faasctl/python-deps:${h2}-aaaaaaaaaaaa`]))).toEqual([]);
  });

  it('leaves a content tag alone when no installation ever tagged it (fn run)', () => {
    expect(unusedDependencyTags([img([`faasctl/python-deps:${h1}`])], A, new Set())).toEqual([]);
  });
});
