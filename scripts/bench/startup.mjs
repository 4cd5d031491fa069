// Start-up cost: `faasctl --version` and `--help` against the floor `node -e 0`,
// interleaved run by run so both see the same machine noise.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, ms } from './stats.mjs';

const bin = fileURLToPath(new URL('../../bin/faasctl.cjs', import.meta.url));

function time(args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export function benchStartup(runs = 40) {
  const floor = [],
    version = [],
    help = [];
  for (let i = 0; i < 3; i++) time([bin, '--version']); // warm the page cache
  for (let i = 0; i < runs; i++) {
    floor.push(time(['-e', '0']));
    version.push(time([bin, '--version']));
    help.push(time([bin, '--help']));
  }
  const f = median(floor);
  return [
    { name: 'startup: node -e 0 (floor)', median: f, ratio: 1, display: ms(f) },
    { name: 'startup: faasctl --version', median: median(version), ratio: median(version) / f, target: 1.3, display: ms(median(version)) },
    { name: 'startup: faasctl --help', median: median(help), ratio: median(help) / f, display: ms(median(help)) },
  ];
}
