// `npm run bench`: every figure is a median, shown as a ratio to the raw floor measured in
// the same run. Results also go to .bench/results.json. Select with: npm run bench -- startup
// (the others need the engine in Swarm mode; invoke takes ~20 s, warm and throughput about
// a minute each, pool (issue 23) a few minutes, bulk about a minute and a half, dispatch about a minute; ssh-api and ssh-invoke need the test bed's
// sshd, ~5 s and ~30 s; bulk also runs bulk-scale, 10k/100k/1M inputs and a resumed 100k, ~10 min, or
// --bulk-max 100k and --no-resume for the inner loop; scale, the request log at 10k/100k/1M rows, ~5 min, or with
// --scale-max 100k for the inner loop; see scale.mjs)
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchBulk, benchBulkScale } from './bulk.mjs';
import { benchDispatch } from './dispatch.mjs';
import { benchInvoke } from './invoke.mjs';
import { benchPool } from './pool.mjs';
import { benchScale, parseSize } from './scale.mjs';
import { benchSshApi, benchSshInvoke } from './ssh.mjs';
import { benchStartup } from './startup.mjs';
import { benchThroughput, benchWarm } from './warm.mjs';

const suites = {
  startup: () => benchStartup(),
  invoke: () => benchInvoke(),
  pool: () => benchPool(),
  warm: () => benchWarm(),
  throughput: () => benchThroughput(),
  bulk: async () => [...(await benchBulk()), ...(await benchBulkScale({ max: bulkMax, resume: !noResume }))],
  'bulk-scale': () => benchBulkScale({ max: bulkMax, resume: !noResume }),
  dispatch: () => benchDispatch(),
  'ssh-api': () => benchSshApi(),
  'ssh-invoke': () => benchSshInvoke(),
  scale: () => benchScale({ scaleMax }),
};
const args = process.argv.slice(2);
const maxAt = args.indexOf('--scale-max');
const scaleMax = maxAt >= 0 ? parseSize(args.splice(maxAt, 2)[1]) : undefined;
const bulkAt = args.indexOf('--bulk-max');
const bulkMax = bulkAt >= 0 ? parseSize(args.splice(bulkAt, 2)[1]) : undefined;
const resumeAt = args.indexOf('--no-resume');
const noResume = resumeAt >= 0 && Boolean(args.splice(resumeAt, 1));
const wanted = args.length ? args : Object.keys(suites);

const rows = [];
for (const name of wanted) {
  if (!suites[name]) throw new Error(`unknown bench "${name}"; have: ${Object.keys(suites).join(', ')}`);
  rows.push(...(await suites[name]()));
}

const width = Math.max(...rows.map((r) => r.name.length));
// `target`: a bound on the ratio; `goal`: an absolute one ({ text, met }).
const verdict = (text, met) => `  (target ${text}: ${met ? 'met' : 'MISSED'})`;
for (const r of rows) {
  const target = (r.target ? verdict(`<= ${r.target}x`, r.ratio <= r.target) : '') + (r.goal ? verdict(r.goal.text, r.goal.met) : '');
  console.log(`${r.name.padEnd(width)}  ${r.display.padStart(10)}  ${r.ratio.toFixed(2)}x${target}`);
}
mkdirSync('.bench', { recursive: true });
writeFileSync('.bench/results.json', `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
