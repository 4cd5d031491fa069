import { PassThrough } from 'node:stream';
import { Context, type ContextInit } from '../../src/cli/context.js';
import type { Env } from '../../src/config/resolve.js';
import { tempDir } from './temp.js';

export interface TestContext {
  ctx: Context;
  stdout(): string;
  stderr(): string;
  configDir: string;
}

interface Options extends Omit<ContextInit, 'streams' | 'env'> {
  env?: Env;
  tty?: boolean;
}

/** An in-process Context with captured streams and its own config dir. */
export function createTestContext(options: Options = {}): TestContext {
  const configDir = tempDir('faasctl-cfg-');
  const out = capture(options.tty);
  const err = capture(options.tty);
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty });
  stdin.end();
  const env: Env = { XDG_CONFIG_HOME: configDir, HOME: configDir, ...options.env };
  const ctx = new Context({ ...options, env, streams: { stdin, stdout: out.stream, stderr: err.stream } });
  return { ctx, stdout: out.text, stderr: err.text, configDir };
}

function capture(tty?: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(new PassThrough(), { isTTY: tty });
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}
