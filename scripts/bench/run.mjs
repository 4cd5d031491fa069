// `npm run bench`: every figure is a median, shown as a ratio to the raw floor measured in
// the same run. Results also go to .bench/results.json. Select with: npm run bench -- startup
// (invoke needs the engine in Swarm mode and takes about a minute)
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchInvoke } from './invoke.mjs';
import { benchStartup } from './startup.mjs';

const suites = { startup: () => benchStartup(), invoke: () => benchInvoke() };
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(suites);

const rows = [];
for (const name of wanted) {
  if (!suites[name]) throw new Error(`unknown bench "${name}"; have: ${Object.keys(suites).join(', ')}`);
  rows.push(...(await suites[name]()));
}

const width = Math.max(...rows.map((r) => r.name.length));
for (const r of rows) {
  const target = r.target ? `  (target <= ${r.target}x: ${r.ratio <= r.target ? 'met' : 'MISSED'})` : '';
  console.log(`${r.name.padEnd(width)}  ${r.display.padStart(10)}  ${r.ratio.toFixed(2)}x${target}`);
}
mkdirSync('.bench', { recursive: true });
writeFileSync('.bench/results.json', `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
