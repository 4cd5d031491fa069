#!/usr/bin/env node
'use strict';
// Thin launcher: all behaviour, including the exit code, comes from main().
// CommonJS on purpose: a CJS entry starts ~10 ms faster than an ES module on Node 20.
const { main } = require('../dist/faasctl.cjs');

// A reader that went away (`faasctl request list | head`) is not an error: stop quietly.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
