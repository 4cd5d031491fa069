// Bundles the CLI into one CommonJS file: start-up cost is a product feature
// (`faasctl --version` within 1.3x of `node -e 0`), and a bundle avoids resolving
// dozens of modules. Heavy libraries stay external and load on first use.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/faasctl.cjs',
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['dockerode', 'tar-stream', 'pg', 'ora', 'cli-table3', '@inquirer/prompts', '@inquirer/core', 'ssh2', 'yaml', 'zod', 'jq-wasm'],
  logLevel: 'warning',
  logOverride: { 'empty-import-meta': 'silent' },
});
