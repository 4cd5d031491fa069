import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
  /** Everything the container printed on its stdout (its log), so far. */
  log: () => string;
}

const started: ChildProcess[] = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

/** `lingerMs`: how long it stays after its job (0 here unless a test is about that). */
async function startStandby(lingerMs = 0): Promise<Standby> {
  const port = await freePort();
  const dir = tempDir('faasctl-standby-');
  const proc = spawn(PYTHON, runtimeArgv('standby'), {
    env: { PATH: process.env.PATH, FAASCTL_PORT: String(port), FAASCTL_JOB_DIR: dir, FAASCTL_LINGER_MS: String(lingerMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(proc);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let out = '';
  const token = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /FAASCTL-STANDBY:(\d+):([0-9a-f]{64})\n/.exec(out);
      if (m) resolve(m[2]!);
    });
    proc.once('exit', () => reject(new Error(`standby exited before its token: ${out}`)));
  });
  return { proc, port, token, exited, log: () => out };
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

  it('stays a moment after its job, refusing any other, then exits 0 (its teardown is deferred past a burst)', async () => {
    const s = await startStandby(4000);
    expect((await post(s, '/job', s.token, job())).status).toBe(200);
    let exited = false;
    void s.exited.then(() => (exited = true));
    const again = await post(s, '/job', s.token, job());
    expect(again.status).toBe(409);
    expect(again.body.toString()).toContain('has taken its one job');
    expect(exited).toBe(false);
    expect(await s.exited).toBe(0);
  });

  it('refuses code that does not match its sha256, and exits without running anything', async () => {
    const s = await startStandby();
    const answer = await post(s, '/job', s.token, job({ sha256: '0'.repeat(64) }));
    expect(answer.status).toBe(400);
    expect(answer.body.toString()).toMatch(/does not match its sha256/);
    expect(await s.exited).toBe(0);
  });

  it('retires unused when told to, and the function process it held goes with it', async () => {
    const s = await startStandby();
    const held = await heldChild(s.proc.pid!);
    expect((await post(s, '/retire', s.token, '{}')).status).toBe(200);
    expect(await s.exited).toBe(0);
    await expect.poll(() => existsSync(`/proc/${held}`), { timeout: 5_000 }).toBe(false);
  });

  it("starts the function's process before the job, which then runs in it with the job's environment and input", async () => {
    const s = await startStandby();
    const held = await heldChild(s.proc.pid!);
    const probe = [
      'import os, sys, time',
      'def main(data):',
      '    return {"pid": os.getpid(), "foo": os.environ.get("FOO"), "faasctl": sorted(k for k in os.environ if k.startswith("FAASCTL_")),',
      '            "tz": time.strftime("%Z", time.localtime(0)), "stdin": sys.stdin.read(), "n": data["n"]}',
    ].join('\n');
    const env = ['FAASCTL_ENTRY=main', 'FAASCTL_TIMEOUT_MS=10000', 'FOO=bar', 'TZ=JST-9'];
    const answer = await post(s, '/job', s.token, job({ code: Buffer.from(probe).toString('base64'), sha256: createHash('sha256').update(probe).digest('hex'), env }));
    const stdout = Buffer.concat(
      demuxAll(answer.body)
        .filter((c) => c.stream === 'stdout')
        .map((c) => c.data),
    ).toString();
    const frame = JSON.parse(stdout.split('FAASCTL-RESULT:nonce-0123456789abcdef:')[1]!);
    // Its own pid: the process that was waiting before the job came, not one spawned for it.
    expect(frame).toMatchObject({ status: 'success', result: { pid: held, foo: 'bar', faasctl: [], tz: 'JST', stdin: '', n: 21 } });
    expect(await s.exited).toBe(0);
  });
});

describe('python runtime: standby, a caller that goes away or cancels', { timeout: 30_000 }, () => {
  const slow = 'import time\ndef main(data):\n    print("started", flush=True)\n    time.sleep(1.5)\n    return {"slept": data["n"]}\n';
  const slowJob = () => job({ code: Buffer.from(slow).toString('base64'), sha256: createHash('sha256').update(slow).digest('hex') });

  it('finishes the job into its own log when the caller goes away (a killed CLI), result frame included', async () => {
    const s = await startStandby();
    await new Promise<void>((resolve) => {
      const req = http.request(
        { host: '127.0.0.1', port: s.port, path: '/job', method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-length': Buffer.byteLength(slowJob()) } },
        (res) => {
          res.once('data', () => {
            req.destroy(); // gone after the first output, mid-run
            resolve();
          });
        },
      );
      req.on('error', () => {});
      req.end(slowJob());
    });
    expect(await s.exited).toBe(0);
    expect(s.log()).toContain('started\n');
    const frame = JSON.parse(s.log().split('FAASCTL-RESULT:nonce-0123456789abcdef:')[1]!);
    expect(frame).toMatchObject({ status: 'success', result: { slept: 21 } });
  });

  it('stops the running job on POST /cancel with the token (and only with it)', async () => {
    const s = await startStandby();
    const answer = post(s, '/job', s.token, slowJob());
    await expect.poll(() => s.log().includes('started\n'), { timeout: 10_000 }).toBe(true);
    expect((await post(s, '/cancel', 'f'.repeat(64), '{}')).status).toBe(401);
    expect((await post(s, '/cancel', s.token, '{}')).status).toBe(200);
    const stdout = Buffer.concat(
      demuxAll((await answer).body)
        .filter((c) => c.stream === 'stdout')
        .map((c) => c.data),
    ).toString();
    expect(JSON.parse(stdout.split('FAASCTL-RESULT:nonce-0123456789abcdef:')[1]!)).toMatchObject({ status: 'stopped' });
    expect(await s.exited).toBe(0);
  });
});

/** The pid of the `child --held` under a standby (its `run` parent's child), once it is up. */
async function heldChild(standbyPid: number): Promise<number> {
  const childrenOf = (pid: number) =>
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(pid);
        } catch {
          return false;
        }
      })
      .map(Number);
  let found: number | undefined;
  await expect
    .poll(
      () => {
        found = childrenOf(standbyPid)
          .flatMap(childrenOf)
          .find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--held'));
        return found;
      },
      { timeout: 10_000 },
    )
    .toBeDefined();
  return found!;
}
