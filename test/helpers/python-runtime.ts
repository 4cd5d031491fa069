// How the runtime tests start the Python runtime: the package directory run with the
// flags of the image's ENTRYPOINT (runtimes/python/Dockerfile), by the host's python3.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The runtime package, run as a directory (its __main__.py). */
export const RUNTIME = fileURLToPath(new URL('../../runtimes/python/faasctl_runtime', import.meta.url));
export const PYTHON = process.env.FAASCTL_TEST_PYTHON ?? 'python3';
/** As the ENTRYPOINT; -B also keeps __pycache__ out of the checkout. */
export const RUNTIME_FLAGS = ['-I', '-B', '-u'];

export const runtimeArgv = (...args: string[]): string[] => [...RUNTIME_FLAGS, RUNTIME, ...args];

/**
 * Throws, failing the test file, when there is no Python 3.9+ to run the runtime with: a
 * runtime test that skipped would let CI pass without running the runtime at all (issue 18).
 */
export function requirePython(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import sys; print(sys.version_info >= (3, 9))'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === 'True') return;
  const found = probe.error ? probe.error.message : probe.stdout.trim() === 'False' ? 'a Python older than 3.9' : probe.stderr.trim();
  throw new Error(`the runtime tests need Python 3.9+ as \`${PYTHON}\` (or set FAASCTL_TEST_PYTHON): install python3 (e.g. apt-get install python3); found: ${found}`);
}

/** The runtime package's modules by bare name (protocol, sandbox, worker ...). */
export const RUNTIME_MODULES = readdirSync(RUNTIME)
  .filter((f) => f.endsWith('.py') && !f.startsWith('__'))
  .map((f) => f.slice(0, -3))
  .sort();

/**
 * Source of a function that sits beside user modules named like every runtime module
 * (written into `dir`) and imports them. It returns which of those names resolved into the
 * runtime before it put its own directory on sys.path (none may), what each import gave
 * (the user's module), and whether `import faasctl` still offers secret().
 */
export function functionShadowingRuntime(dir: string): string {
  const lib = mkdtempSync(join(dir, 'user-modules-'));
  for (const name of RUNTIME_MODULES) writeFileSync(join(lib, `${name}.py`), `WHO = "user ${name}"\n`);
  const names = JSON.stringify(RUNTIME_MODULES);
  return `import importlib.util, sys
def _runtime_origin(name):
    spec = importlib.util.find_spec(name)
    return spec is not None and "faasctl_runtime" in (spec.origin or "")
VISIBLE = [n for n in ${names} if _runtime_origin(n)]
sys.path.insert(0, ${JSON.stringify(lib)})
import faasctl
MODULES = [__import__(n) for n in ${names}]

def main(data):
    return {"visible": VISIBLE, "who": [m.WHO for m in MODULES], "secret": callable(faasctl.secret), "data": data}
`;
}

/** What functionShadowingRuntime's function returns when nothing was shadowed. */
export const unshadowedResult = (data: unknown) => ({ visible: [], who: RUNTIME_MODULES.map((n) => `user ${n}`), secret: true, data });
