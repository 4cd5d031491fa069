// Start-up cost: `faasctl --version` and `--help` against the floor `node -e 0`,
// interleaved run by run so both see the same machine noise; also `--version` of the package
// as `npm pack` makes it (unpacked in a temp dir: what an npm install puts on disk, without the
// registry; --version loads no dependency).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, ms } from './stats.mjs';

const bin = fileURLToPath(new URL('../../bin/faasctl.cjs', import.meta.url));

function time(args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** The packed package, unpacked: its bin/faasctl.cjs. */
function packed(dir) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['-xzf', join(dir, tgz), '-C', dir]);
  return join(dir, 'package', 'bin', 'faasctl.cjs');
}

export function benchStartup(runs = 40) {
  const floor = [],
    version = [],
    help = [],
    installed = [];
  const dir = mkdtempSync(join(tmpdir(), 'faasctl-pack-'));
  try {
    const packedBin = packed(dir);
    for (let i = 0; i < 3; i++) time([bin, '--version']), time([packedBin, '--version']); // warm the page cache and code caches
    for (let i = 0; i < runs; i++) {
      floor.push(time(['-e', '0']));
      version.push(time([bin, '--version']));
      help.push(time([bin, '--help']));
      installed.push(time([packedBin, '--version']));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const f = median(floor);
  return [
    { name: 'startup: node -e 0 (floor)', median: f, ratio: 1, display: ms(f) },
    { name: 'startup: faasctl --version', median: median(version), ratio: median(version) / f, target: 1.3, display: ms(median(version)) },
    { name: 'startup: faasctl --help', median: median(help), ratio: median(help) / f, display: ms(median(help)) },
    { name: 'startup: faasctl --version, from the packed package', median: median(installed), ratio: median(installed) / f, target: 1.3, display: ms(median(installed)) },
  ];
}
