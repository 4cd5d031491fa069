// Bundles the CLI into one CommonJS file: start-up cost is a product feature
// (`faasctl --version` within 1.3x of `node -e 0`), and a bundle avoids resolving
// dozens of modules. Heavy libraries stay external and load on first use.
import { writeFileSync } from 'node:fs';
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

/**
 * docker-modem loads ssh2 (and its crypto) at start for `ssh://` hosts, which faasctl reaches
 * through its own tunnel instead (src/swarm/ssh-tunnel.ts): about 50 ms of every command that
 * talks to the engine. In the bundle ssh2 is a stand-in that loads the real one on first use.
 */
const lazySsh2 = {
  name: 'lazy-ssh2',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, (a) => (a.namespace === 'lazy-ssh2' ? { path: 'ssh2', external: true } : { path: 'ssh2', namespace: 'lazy-ssh2' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-ssh2' }, () => ({
      loader: 'js',
      contents: `let real; const load = () => (real ??= require('ssh2'));
        module.exports = { Client: function Client(...args) { return new (load().Client)(...args); } };`,
    }));
  },
};

/**
 * The libraries loaded on demand are bundles of their own in dist/ (dockerode with docker-modem,
 * pg), so the launcher compiles them with V8's code cache as it does the main bundle
 * (bin/faasctl.cjs). The main bundle names them '../dist/…', which resolves from bin/ and dist/.
 */
const subBundles = {
  name: 'sub-bundles',
  setup(b) {
    b.onResolve({ filter: /^dockerode$/ }, () => ({ path: '../dist/dockerode.cjs', external: true }));
    b.onResolve({ filter: /^docker-modem$/ }, () => ({ path: '../dist/docker-modem.cjs', external: true }));
  },
};

// dockerode and the docker-modem it is built on, one copy, reachable by both names.
await build({
  stdin: { contents: "module.exports = require('dockerode'); module.exports.Modem = require('docker-modem');", resolveDir: '.', loader: 'js' },
  outfile: 'dist/dockerode.cjs',
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // cpu-features: ssh2's optional native part.
  external: ['cpu-features'],
  plugins: [noGrpc, lazySsh2],
  logLevel: 'warning',
});
writeFileSync('dist/docker-modem.cjs', "'use strict';\n// docker-modem is bundled with dockerode (scripts/build.mjs): one copy for both.\nmodule.exports = require('./dockerode.cjs').Modem;\n");

// pg without its optional native binding (pg-native) and Cloudflare socket, which faasctl never uses.
// At load pg asks whether it runs in a Cloudflare Worker with `typeof Response` and a `new
// Response(…)`: in Node that getter loads the whole fetch implementation (undici), tens of ms of
// every command that reads the database. Here neither global exists, so the answer is Node's.
await build({
  entryPoints: ['node_modules/pg/lib/index.js'],
  define: { Response: 'undefined', navigator: 'undefined' },
  outfile: 'dist/pg.cjs',
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['pg-native', 'pg-cloudflare'],
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
  plugins: [subBundles],
  logLevel: 'warning',
  logOverride: { 'empty-import-meta': 'silent' },
});
