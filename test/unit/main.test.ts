import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ConnectionError } from '../../src/base/errors.js';
import { createTestContext } from '../helpers/test-context.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const argv = (...args: string[]) => ['node', 'faasctl', ...args];

describe('main', () => {
  it('prints the version on stdout and exits 0 without connecting', async () => {
    const swarm = new FakeSwarm({
      engineInfo: async () => {
        throw new Error('must not connect');
      },
    });
    const t = createTestContext({ swarm });
    expect(await main(argv('--version'), t.ctx)).toBe(0);
    expect(t.stdout()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('shows help with exit 0', async () => {
    const t = createTestContext();
    expect(await main(argv('--help'), t.ctx)).toBe(0);
    expect(t.stdout()).toContain('Usage: faasctl');
  });

  it('answers an unknown command with a usage error (2) on stderr', async () => {
    const t = createTestContext();
    expect(await main(argv('frobnicate'), t.ctx)).toBe(2);
    expect(t.stderr()).toContain("error: unknown command 'frobnicate'");
    expect(t.stdout()).toBe('');
  });

  it('answers an unknown option with --json as one JSON error document', async () => {
    const t = createTestContext();
    expect(await main(argv('--json', 'doctor', '--frob'), t.ctx)).toBe(2);
    expect(JSON.parse(t.stdout()).error).toMatchObject({ code: 'usage', exitCode: 2 });
  });

  it('runs doctor against fakes: failures give a non-zero exit and a fix per failed check', async () => {
    const swarm = new FakeSwarm({ imageExists: async () => false });
    const t = createTestContext({ swarm });
    expect(await main(argv('--json', 'doctor'), t.ctx)).toBe(3);
    const report = JSON.parse(t.stdout());
    expect(report.ok).toBe(false);
    const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
    expect(byName.engine.status).toBe('ok');
    expect(byName['runtime image']).toMatchObject({ status: 'fail', fix: 'run faasctl up to build it' });
    expect(byName.database).toMatchObject({ status: 'fail', detail: 'no database configured' });
  });

  it('gives doctor exit 5 when the engine is unreachable, and still checks the rest', async () => {
    const swarm = new FakeSwarm({
      engineInfo: async () => {
        throw new ConnectionError('cannot reach the Docker engine at unix:///dead.sock (ENOENT)');
      },
    });
    const t = createTestContext({ swarm });
    expect(await main(argv('doctor'), t.ctx)).toBe(5);
    expect(t.stdout()).toContain('engine\tFAIL\tcannot reach the Docker engine at unix:///dead.sock (ENOENT)');
    expect(t.stdout()).toContain('swarm\tskip');
  });

  it('prints tables as TSV without escape codes when piped, and aligned on a TTY', async () => {
    const piped = createTestContext();
    await main(argv('context', 'ls'), piped.ctx);
    expect(piped.stdout()).toBe('default *\tunix:///var/run/docker.sock\t-\t-\tthe local engine\n');
    const tty = createTestContext({ tty: true, env: { NO_COLOR: '1' } });
    await main(argv('context', 'ls'), tty.ctx);
    expect(tty.stdout()).toMatch(/NAME\s+HOST\s+DATABASE/);
    expect(tty.stdout()).not.toMatch(/\x1b\[/);
  });
});
