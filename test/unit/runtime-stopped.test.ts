// The Python runtime told to stop by the engine (SIGTERM to the runtime itself, PID 1 in its
// container) answers "stopped": the platform's fault, not the function's (issue 17, obs 3).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, requirePython, runtimeArgv } from '../helpers/python-runtime.js';
import { tempDir } from '../helpers/temp.js';

requirePython();
const dir = tempDir('faasctl-stopped-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('python runtime stopped by the engine', () => {
  it('SIGTERM to the runtime mid-run answers status "stopped", type Stopped, naming the cause', async () => {
    const code = join(dir, 'slow.py');
    writeFileSync(code, 'import time, sys\n\ndef main(data):\n    print("started", flush=True)\n    time.sleep(30)\n    return "never"\n');
    const nonce = randomBytes(16).toString('hex');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, FAASCTL_NONCE: nonce, FAASCTL_CODE_FILE: code };
    const child = spawn(PYTHON, runtimeArgv('run'), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end('null');
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      // The engine's SIGTERM reaches the runtime, not the function's process group.
      if (stdout.includes('started\n') && !child.killed) child.kill('SIGTERM');
    });
    expect(await exited).toBe(0);
    const line = stdout.split('\n').find((l) => l.startsWith(`FAASCTL-RESULT:${nonce}:`));
    expect(line, stdout).toBeDefined();
    const frame = JSON.parse(line!.slice(`FAASCTL-RESULT:${nonce}:`.length)) as { status: string; error: { type: string; message: string } };
    expect(frame.status).toBe('stopped');
    expect(frame.error).toMatchObject({ type: 'Stopped', message: 'the engine stopped the container mid-run with SIGTERM (engine restart, node drain or service removal)' });
  }, 20_000);
});
