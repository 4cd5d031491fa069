import { spawn } from 'node:child_process';
import { BIN, type CliResult } from './cli.js';

/**
 * The built binary started in the background, for fault tests that act on it while it runs:
 * watch its streams, then SIGKILL it (or let it finish). Output is kept whole.
 */
export interface BackgroundCli {
  done: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
  lines(): number;
  exited(): boolean;
  signal(name: NodeJS.Signals): void;
}

export function startCli(args: string[], env: Record<string, string | undefined>, options: { timeoutMs?: number; shell?: boolean } = {}): BackgroundCli {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let lines = 0;
  let exited = false;
  child.stdout.on('data', (c: Buffer) => {
    const text = c.toString();
    stdout += text;
    for (const ch of text) if (ch === '\n') lines++;
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 150_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { done, stdout: () => stdout, stderr: () => stderr, lines: () => lines, exited: () => exited, signal: (name) => child.kill(name) };
}

/** The id a cold invoke or a bulk run prints on stderr as soon as its row exists. */
export function announcedRequest(stderr: string): string | undefined {
  return /^request ([0-9a-f-]{36}): faasctl request (?:wait|show) /m.exec(stderr)?.[1];
}
