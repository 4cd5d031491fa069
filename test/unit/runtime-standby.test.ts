import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/postgres.js';
import { PYTHON, requirePython, runtimeArgv } from '../helpers/python-runtime.js';
import { tempDir } from '../helpers/temp.js';
import { demuxAll } from '../../src/swarm/log-demux.js';

/**
 * The runtime's `standby` mode (a sandbox-pool container, issue 23) on this host's Python: it
 * prints a one-time token, refuses anyone without it, checks the code's sha256, runs exactly
 * one job through the cold `run` mode and exits.
 */
requirePython();

interface Standby {
  proc: ChildProcess;
  port: number;
  token: string;
  exited: Promise<number | null>;
}

const started: ChildProcess[] = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

async function startStandby(): Promise<Standby> {
  const port = await freePort();
  const dir = tempDir('faasctl-standby-');
  const proc = spawn(PYTHON, runtimeArgv('standby'), { env: { PATH: process.env.PATH, FAASCTL_PORT: String(port), FAASCTL_JOB_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const token = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /FAASCTL-STANDBY:(\d+):([0-9a-f]{64})\n/.exec(out);
      if (m) resolve(m[2]!);
    });
    proc.once('exit', () => reject(new Error(`standby exited before its token: ${out}`)));
  });
  return { proc, port, token, exited };
}

function post(s: Standby, path: string, token: string, body: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, path, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const code = 'def main(data):\n    print("got", data)\n    return {"twice": data["n"] * 2}\n';
const job = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    code: Buffer.from(code).toString('base64'),
    sha256: createHash('sha256').update(code).digest('hex'),
    input: '{"n": 21}',
    nonce: 'nonce-0123456789abcdef',
    env: ['FAASCTL_ENTRY=main', 'FAASCTL_TIMEOUT_MS=10000'],
    ...over,
  });

describe('python runtime: standby (a pool container)', { timeout: 30_000 }, () => {
  it('runs one authenticated job through the cold runtime, streams it, then exits 0 and takes no other', async () => {
    const s = await startStandby();
    expect((await post(s, '/job', 'f'.repeat(64), job())).status).toBe(401);
    const answer = await post(s, '/job', s.token, job());
    expect(answer.status).toBe(200);
    const chunks = demuxAll(answer.body);
    const stdout = Buffer.concat(chunks.filter((c) => c.stream === 'stdout').map((c) => c.data)).toString();
    expect(stdout).toContain("got {'n': 21}\n");
    const frame = JSON.parse(stdout.split('FAASCTL-RESULT:nonce-0123456789abcdef:')[1]!);
    expect(frame).toMatchObject({ status: 'success', result: { twice: 42 } });
    expect(await s.exited).toBe(0);
  });

  it('refuses code that does not match its sha256, and exits without running anything', async () => {
    const s = await startStandby();
    const answer = await post(s, '/job', s.token, job({ sha256: '0'.repeat(64) }));
    expect(answer.status).toBe(400);
    expect(answer.body.toString()).toMatch(/does not match its sha256/);
    expect(await s.exited).toBe(0);
  });

  it('retires unused when told to', async () => {
    const s = await startStandby();
    expect((await post(s, '/retire', s.token, '{}')).status).toBe(200);
    expect(await s.exited).toBe(0);
  });
});
