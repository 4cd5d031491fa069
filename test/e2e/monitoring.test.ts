import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { visit } from '../helpers/chromium.js';
import { isolatedEnv, runCli, type CliResult } from '../helpers/cli.js';
import { NONE, query, settledLeftovers } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { tempDir } from '../helpers/temp.js';

/** PostgreSQL's percentile_cont, computed here independently: linear between closest ranks. */
function percentileCont(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  const rank = p * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return v[lo]! + (v[hi]! - v[lo]!) * (rank - lo);
}

const FUNCTION = `import time

def main(data):
    if data.get("raise"):
        raise ValueError("asked to fail")
    if data.get("sleep"):
        time.sleep(data["sleep"])
    return {"n": data.get("n")}
`;

/**
 * Monitoring through the built binary, on the real Swarm and PostgreSQL: after a known set of
 * invocations (warm and cold, successes, raised errors, a timeout, a bulk run) `stats --json`
 * gives exactly the counts and percentiles computed here from the request log; `top --once`
 * shows the warm replica with its memory; the HTML report renders its charts in headless
 * Chromium without a single network request beyond the file itself.
 */
describe('stats, top and report through the binary', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const dir = tempDir('faasctl-monitoring-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 120_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    ok(await runCli(['up'], { env, timeoutMs: 300_000 }));
    ok(await cli(['user', 'create', 'mon-user', '--password-stdin'], 'mon-user-pass'));
    ok(await cli(['login', 'mon-user', '--password-stdin'], 'mon-user-pass'));
    writeFileSync(join(dir, 'probe.py'), FUNCTION);
    ok(await cli(['fn', 'deploy', join(dir, 'probe.py'), '--timeout', '2s', '--warm', '1']));
  }, 300_000);
  afterEach(async () => {
    expect(await settledLeftovers(db.url)).toEqual(NONE);
  });
  afterAll(async () => {
    await cli(['fn', 'delete', 'probe']).catch(() => {});
    await cli(['user', 'delete', '--force', '--yes']).catch(() => {});
    await db?.drop();
  });

  it('stats --json gives exactly the counts and percentiles of a known set of invocations', async () => {
    for (let n = 0; n < 6; n++) ok(await cli(['fn', 'invoke', 'probe', '--data', JSON.stringify({ n })]));
    for (let n = 0; n < 2; n++) expect((await cli(['fn', 'invoke', 'probe', '--data', '{"raise": true}'])).code).toBe(6);
    expect((await cli(['fn', 'invoke', 'probe', '--data', '{"sleep": 5}'])).code).toBe(124);
    ok(await cli(['fn', 'invoke', 'probe', '--cold', '--data', '{"n": 99}']));
    const bulk = join(dir, 'bulk.jsonl');
    writeFileSync(bulk, [{ n: 1 }, { n: 2 }, { raise: true }, { n: 3 }].map((i) => JSON.stringify(i)).join('\n'));
    expect((await cli(['fn', 'invoke', 'probe', '--bulk', bulk])).code).toBe(6);

    // Independently: every single invocation's row, and every bulk input's row.
    const singles = await query<{ status: string; duration_ms: number; mode: string }>(db.url, "SELECT status, duration_ms, mode FROM requests WHERE type = 'fn.invoke' AND function_name = 'probe'");
    const items = await query<{ status: string; duration_ms: number }>(
      db.url,
      "SELECT i.status, i.duration_ms FROM request_items i JOIN requests r ON r.id = i.request_id WHERE r.function_name = 'probe'",
    );
    expect(singles).toHaveLength(10);
    expect(items).toHaveLength(4);
    const durations = [...singles, ...items].map((r) => Number(r.duration_ms));

    const stats = JSON.parse(ok(await cli(['--json', 'stats', 'probe', '--since', '1h'])).stdout);
    expect(stats.functions).toHaveLength(1);
    const f = stats.functions[0];
    expect(f).toMatchObject({ name: 'probe', invocations: 14, succeeded: 10, applicationErrors: 3, developerErrors: 1, systemErrors: 0, cold: 1, warm: 13 });
    expect(f.errorRate).toBeCloseTo(4 / 14, 10);
    for (const [key, p] of [
      ['p50Ms', 0.5],
      ['p95Ms', 0.95],
      ['p99Ms', 0.99],
    ] as const)
      expect(f[key]).toBeCloseTo(percentileCont(durations, p), 6);
    expect(f.peakRssKb).toBeGreaterThan(1000);
    expect(f.timeline.reduce((n: number, p: { invocations: number }) => n + p.invocations, 0)).toBe(14);
    // The table form agrees, and a function name filter that matches nothing is empty.
    const table = ok(await cli(['stats', '--since', '1h'])).stdout;
    expect(table.split('\n')[0]).toMatch(/^probe\t14\t28\.6%\t/);
    expect(JSON.parse(ok(await cli(['--json', 'stats', 'nothing-here'])).stdout).functions).toEqual([]);
  }, 180_000);

  it('top --once --json lists the running warm replica with its memory and counters', async () => {
    ok(await cli(['fn', 'invoke', 'probe', '--data', '{"n": 1}']));
    const top = JSON.parse(ok(await cli(['--json', 'top', '--once'])).stdout);
    expect(top.nodes.length).toBeGreaterThan(0);
    const replica = top.tasks.find((t: { kind: string; functionName: string }) => t.kind === 'warm' && t.functionName === 'probe');
    expect(replica, JSON.stringify(top.tasks)).toBeDefined();
    expect(replica.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(replica.runtime.served).toBeGreaterThan(0);
    expect(replica.runtime.workers).toBe(2);
    expect(replica.cpuPercent).not.toBeNull();
    // Without a terminal and without --once it refuses at once, naming the way out.
    const live = await cli(['top']);
    expect(live.code).toBe(4);
    expect(live.stderr).toContain('--once');
  }, 60_000);

  it('report writes one HTML file that renders its charts in Chromium with no network request', async () => {
    const out = join(dir, 'report.html');
    ok(await cli(['report', '--out', out, '--since', '1h']));
    const page = await visit(`file://${out}`);
    expect(page.requests).toEqual([`file://${out}`]);
    expect(page.failed).toEqual([]);
    expect(page.consoleErrors).toEqual([]);
    expect(page.elements.svg).toBeGreaterThanOrEqual(6);
    expect(page.elements.rect).toBeGreaterThan(20);
    expect(page.screenshotPng.subarray(1, 4).toString()).toBe('PNG');
    // A blank page of the same size compresses to a few KiB; charts do not.
    expect(page.screenshotPng.length).toBeGreaterThan(30_000);
  }, 60_000);
});
