#!/usr/bin/env node
'use strict';
// Thin launcher: all behaviour, including the exit code, comes from main().
// CommonJS on purpose: a CJS entry starts ~10 ms faster than an ES module on Node 20.
const { main } = loadBundle();

// A reader that went away (`faasctl request list | head`) is not an error: stop quietly.
// A command that listens for it itself (a bulk run, which must stop feeding and record its
// row first: src/cli/commands/fn/invoke-bulk.ts) decides alone.
process.stdout.on('error', (err) => {
  if (process.stdout.listenerCount('error') > 1) return;
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// A failure nothing awaited is a bug in faasctl: one line like any error (exit 1), the stack
// only with --debug, instead of Node's stack dump.
const lastResort = (err) => {
  process.stderr.write(`error: internal error: ${err?.message || String(err)}\nhint: this is a bug in faasctl: please report it with the output of --debug\n`);
  if (process.argv.includes('--debug') && err?.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
};
process.on('unhandledRejection', lastResort);
process.on('uncaughtException', lastResort);

main(process.argv).then((code) => {
  process.exitCode = code;
});

/**
 * The bundle, compiled with V8's code cache: compiling ~600 KB of JavaScript is most of
 * faasctl's start-up, and Node 20 has no built-in compile cache (module.enableCompileCache
 * came in 22). The cache lives in $XDG_CACHE_HOME/faasctl (or ~/.cache/faasctl), keyed by
 * Node version and the bundle's size and mtime; any problem with it falls back to require().
 * Not the v8-compile-cache package: its scripts cannot use import() either, and it hooks
 * every require() of the process. The libraries the bundle loads on demand (dockerode, pg) are
 * bundles of their own in dist/ (scripts/build.mjs), compiled the same way when first needed.
 */
function loadBundle() {
  const path = require('node:path');
  const dist = path.join(__dirname, '..', 'dist');
  const loaded = new Map();
  // A bundle of dist/ by its file name, each once; null when it cannot be compiled with a cache.
  const distBundle = (name) => {
    if (!loaded.has(name)) loaded.set(name, runCached(path.join(dist, name), distRequire));
    return loaded.get(name);
  };
  // The main bundle names its siblings '../dist/x.cjs', they name each other './x.cjs'.
  const SIBLING = /^(?:\.\.\/dist|\.)\/([\w-]+\.cjs)$/;
  const distRequire = Object.assign((id) => {
    const sibling = SIBLING.exec(id);
    const bundle = sibling && distBundle(sibling[1]);
    return bundle ? bundle.exports : require(sibling ? path.join(dist, sibling[1]) : id);
  }, require);
  // Code compiled by vm.Script cannot import() on Node 20; src/base/external.ts borrows ours.
  // Bare names resolve from here (bin/) exactly as from dist/: the same node_modules.
  const IMPORTED_BUNDLES = { pg: 'pg.cjs' };
  globalThis.__faasctlImport = (specifier) => {
    const bundle = IMPORTED_BUNDLES[specifier] && distBundle(IMPORTED_BUNDLES[specifier]);
    return bundle ? Promise.resolve({ default: bundle.exports }) : import(specifier);
  };
  const main = distBundle('faasctl.cjs');
  return main ? main.exports : require(path.join(dist, 'faasctl.cjs'));
}

/** Runs a CommonJS file compiled with the code cache; null when that cannot be done (then plain require). */
function runCached(file, lentRequire) {
  let compiled;
  try {
    compiled = compileCached(file);
  } catch {
    return null;
  }
  const mod = { exports: {} };
  compiled.fn.call(mod.exports, mod.exports, lentRequire, mod, file, require('node:path').dirname(file));
  compiled.save();
  return mod;
}

function compileCached(file) {
  const fs = require('node:fs');
  const path = require('node:path');
  const vm = require('node:vm');
  const source = fs.readFileSync(file, 'utf8');
  const stat = fs.statSync(file);
  const base = process.env.XDG_CACHE_HOME || path.join(require('node:os').homedir(), '.cache');
  // Per installed copy (its path hashed): two copies (a checkout and an npm install) would
  // otherwise evict each other's cache on every run.
  const prefix = `${path.basename(file, '.cjs')}-${fnv1a(path.dirname(file))}-${process.version}-`;
  const cacheFile = path.join(base, 'faasctl', `${prefix}${stat.size}-${Math.round(stat.mtimeMs)}.v8cache`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {}
  const script = new vm.Script(require('node:module').wrap(source), {
    filename: file,
    cachedData,
  });
  const fresh = !cachedData || script.cachedDataRejected;
  return {
    fn: script.runInThisContext(),
    // After the first run, so the functions it compiled are in the cache too.
    save() {
      if (!fresh) return;
      process.once('beforeExit', () => {
        try {
          fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
          const tmp = `${cacheFile}.${process.pid}`;
          fs.writeFileSync(tmp, script.createCachedData());
          fs.renameSync(tmp, cacheFile);
          // Caches of earlier builds of this copy, and of the cache's first layout, are dead weight.
          for (const name of fs.readdirSync(path.dirname(cacheFile))) {
            const stale = name.startsWith(prefix) || name.startsWith('bundle-');
            if (stale && name.endsWith('.v8cache') && name !== path.basename(cacheFile)) fs.rmSync(path.join(path.dirname(cacheFile), name), { force: true });
          }
        } catch {}
      });
    },
  };
}

/** A short, stable hash of a string (32-bit FNV-1a, hex): node:crypto is not worth loading for it. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
