// Bundles the CLI into one CommonJS file: start-up cost is a product feature
// (`faasctl --version` within 1.3x of `node -e 0`), and a bundle avoids resolving
// dozens of modules. Heavy libraries stay external and load on first use.
import { build } from 'esbuild';

/**
 * dockerode requires @grpc/grpc-js and @grpc/proto-loader (protobufjs under them) at load, for
 * BuildKit sessions faasctl never opens (its builds use the legacy builder): about half of
 * dockerode's load time. Its own bundle, dist/dockerode.cjs, has a stub in their place that
 * throws if anything ever uses it. The main bundle loads that file where it loaded dockerode
 * ('../dist/…' resolves from bin/, whose require the launcher lends, and from dist/ alike).
 */
const noGrpc = {
  name: 'no-grpc',
  setup(b) {
    b.onResolve({ filter: /^(@grpc\/grpc-js|@grpc\/proto-loader|protobufjs)$/ }, (a) => ({ path: a.path, namespace: 'no-grpc' }));
    b.onLoad({ filter: /.*/, namespace: 'no-grpc' }, (a) => ({
      loader: 'js',
      contents: `module.exports = new Proxy({}, { get(_, key) { if (key === '__esModule' || typeof key === 'symbol') return undefined; throw new Error('${a.path} is left out of faasctl (dockerode BuildKit sessions are not used)'); } });`,
    }));
  },
};

const dockerodeBundle = {
  name: 'dockerode-bundle',
  setup(b) {
    b.onResolve({ filter: /^dockerode$/ }, () => ({ path: '../dist/dockerode.cjs', external: true }));
  },
};

await build({
  entryPoints: ['node_modules/dockerode/lib/docker.js'],
  outfile: 'dist/dockerode.cjs',
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // docker-modem is faasctl's own dependency too (src/swarm/modem.ts builds the modem); ssh2 has optional native parts.
  external: ['docker-modem', 'ssh2', 'cpu-features'],
  plugins: [noGrpc],
  logLevel: 'warning',
});

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/faasctl.cjs',
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['tar-stream', 'pg', 'ora', 'cli-table3', '@inquirer/prompts', '@inquirer/core', 'ssh2', 'yaml', 'zod', 'jq-wasm'],
  plugins: [dockerodeBundle],
  logLevel: 'warning',
  logOverride: { 'empty-import-meta': 'silent' },
});
