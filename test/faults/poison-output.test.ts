import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli, scratchDir, type CliResult } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/**
 * Hostile output (issue 17, observations 1 and 10): a function that prints and returns NUL,
 * invalid UTF-8, lone surrogates, ANSI/OSC sequences and other controls used to fail the row's
 * write (`invalid byte sequence for encoding "UTF8": 0x00`), leave it `running` with its service
 * and configs, and wedge `gc` and `fn delete` for the whole installation. Through the built binary
 * on the real engine and PostgreSQL: every path (cold, warm, bulk cold and warm, fn run, async +
 * request wait) ends with its normal exit code and a terminal row flagged `sanitized`; no raw
 * control byte reaches stdout or stderr in human mode; `--json` carries the exact text; binary
 * code and input are refused (exit 2, nothing stored); a warm 50 MB print says it was cut.
 */
const POISON = `import sys

def main(data):
    data = data or {}
    sys.stdout.write("nul:\\x00:end\\n")
    sys.stdout.flush()
    sys.stdout.buffer.write(b"bytes:\\xff\\xfe\\xc3(:end\\n")
    sys.stdout.buffer.flush()
    print("ansi:\\x1b[31mred\\x1b[0m osc:\\x1b]0;pwned\\x07 bs:\\x08 del:\\x7f c1:\\x9b cr:\\rover")
    print("lone:" + b"\\xff".decode("utf-8", "surrogateescape"), file=sys.stderr)
    if data.get("raise"):
        raise ValueError("bad\\x1b[2J\\x00news")
    return {"nul": "a\\x00b", "lone": "x\\udc80y", "ansi": "\\x1b[31mred", "c1": "\\x9b", "key\\x00": 1}
`;

/** What the function returns, as the live answer must carry it (JSON-escaped, not altered). */
const EXACT = { nul: 'a\u0000b', lone: 'x\udc80y', ansi: '\u001b[31mred', c1: '\u009b', 'key\u0000': 1 };
/** The same, as the row stores it. */
const STORED = { nul: 'a\uFFFDb', lone: 'x\uFFFDy', ansi: '\u001b[31mred', c1: '\u009b', 'key\uFFFD': 1 };

const BIG = `import sys

def main(data):
    chunk = "y" * (1 << 20)
    for _ in range(50):
        sys.stdout.write(chunk)
    print()
    return {"printed": 50 << 20}
`;

/** Any byte a terminal would act on: C0 controls but tab, newline and CR, DEL, C1. */
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const REQUEST_ID = /request ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/;

describe('poisonous output and binary input', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  let installation: string;
  const { dir, file } = scratchDir('faasctl-poison-');
  const cli = (args: string[], input?: string, timeoutMs = 120_000) => runCli(args, { env, input, timeoutMs });
  const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => query<T>(db.url, sql, params);
  const exits = (r: CliResult, code: number) => {
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(code);
    return r;
  };
  /** Human mode: whatever the function wrote, nothing on either stream drives a terminal. */
  const safe = (r: CliResult) => {
    expect(r.stdout, 'stdout').not.toMatch(RAW_CONTROL);
    expect(r.stderr, 'stderr').not.toMatch(RAW_CONTROL);
    expect(r.stderr).not.toMatch(/internal error/);
    return r;
  };
  const row = async (id: string) =>
    (
      await rows<{ status: string; sanitized: boolean; output: string | null; result: unknown; error: string | null; output_truncated: boolean }>(
        'SELECT status, sanitized, output, result, error, output_truncated FROM requests WHERE id = $1',
        [id],
      )
    )[0]!;
  const counts = async () => (await rows<{ f: string; r: string }>('SELECT (SELECT count(*) FROM functions) AS f, (SELECT count(*) FROM requests) AS r'))[0]!;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    exits(await runCli(['up'], { env, timeoutMs: 300_000 }), 0);
    exits(await cli(['user', 'create', 'poison-user', '--password-stdin'], 'poison-user-pass'), 0);
    exits(await cli(['login', 'poison-user', '--password-stdin'], 'poison-user-pass'), 0);
    installation = (await rows<{ value: string }>("SELECT value FROM faasctl_meta WHERE key = 'installation_id'"))[0]!.value;
    file('poison.py', POISON);
    file('big.py', BIG);
    exits(await cli(['fn', 'deploy', join(dir, 'poison.py')]), 0);
    exits(await cli(['fn', 'deploy', join(dir, 'poison.py'), '--name', 'poisonw', '--warm', '1', '--workers', '1']), 0);
  });
  cleansUpAfterEach(() => ({ db, env }));

  it('cold, async + request wait, fn run: normal exits, terminal rows flagged sanitized, nothing raw on a terminal', async () => {
    const human = safe(exits(await cli(['fn', 'invoke', 'poison', '--cold']), 0));
    expect(JSON.parse(human.stdout)).toEqual(EXACT);
    expect(human.stderr).toContain('ansi:\\x1b[31mred\\x1b[0m osc:\\x1b]0;pwned\\x07 bs:\\x08 del:\\x7f c1:\\u009b cr:\\rover');

    const json = exits(await cli(['--json', 'fn', 'invoke', 'poison', '--cold']), 0);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const answer = JSON.parse(json.stdout) as { requestId: string; result: unknown; status: string };
    expect(answer).toMatchObject({ status: 'success', result: EXACT });
    const stored = await row(answer.requestId);
    expect(stored).toMatchObject({ status: 'success', sanitized: true, result: STORED });
    expect(stored.output).toContain('nul:\uFFFD:end');
    expect(stored.output).toContain('bytes:\uFFFD\uFFFD\uFFFD(:end'); // invalid UTF-8, decoded as U+FFFD
    expect(stored.output).toContain('\u001b[31mred'); // valid text: stored as it came, escaped on display

    const raised = safe(exits(await cli(['fn', 'invoke', 'poison', '--cold', '--data', '{"raise": true}']), 6));
    expect(raised.stderr).toContain('bad\\x1b[2J');
    const failedId = raised.stderr.match(REQUEST_ID)![1]!;
    expect(await row(failedId)).toMatchObject({ status: 'application_error', sanitized: true });

    const asyncId = exits(await cli(['fn', 'invoke', 'poison', '--async']), 0).stdout.trim();
    const waited = safe(exits(await cli(['request', 'wait', asyncId]), 0));
    expect(JSON.parse(waited.stdout)).toEqual(EXACT);
    expect(await row(asyncId)).toMatchObject({ status: 'success', sanitized: true });

    for (const id of [answer.requestId, failedId, asyncId]) {
      const shown = safe(exits(await cli(['request', 'show', id]), 0));
      expect(shown.stdout).toMatch(/sanitized|U\+FFFD/);
      const shownJson = JSON.parse(exits(await cli(['--json', 'request', 'show', id]), 0).stdout) as { sanitized: boolean; status: string };
      expect(shownJson).toMatchObject({ sanitized: true });
      expect(['success', 'application_error']).toContain(shownJson.status);
    }
    safe(exits(await cli(['request', 'list']), 0));
    const listed = JSON.parse(exits(await cli(['--json', 'request', 'list']), 0).stdout) as Array<{ status: string }>;
    expect(listed.filter((r) => r.status === 'pending' || r.status === 'running')).toEqual([]);

    const ran = safe(exits(await cli(['fn', 'run', join(dir, 'poison.py'), '--data', '{}']), 0));
    expect(JSON.parse(ran.stdout)).toEqual(EXACT);
    const ranJson = JSON.parse(exits(await cli(['--json', 'fn', 'run', join(dir, 'poison.py'), '--data', '{}']), 0).stdout) as { result: unknown };
    expect(ranJson.result).toEqual(EXACT);
  });

  it('warm: the same answer, the row flagged, nothing raw on a terminal', async () => {
    const human = safe(exits(await cli(['fn', 'invoke', 'poisonw']), 0));
    expect(JSON.parse(human.stdout)).toEqual(EXACT);
    expect(human.stderr).toContain('osc:\\x1b]0;pwned\\x07');
    const answer = JSON.parse(exits(await cli(['--json', 'fn', 'invoke', 'poisonw']), 0).stdout) as { requestId: string; mode: string; result: unknown };
    expect(answer).toMatchObject({ mode: 'warm', result: EXACT });
    const stored = await row(answer.requestId);
    expect(stored).toMatchObject({ status: 'success', sanitized: true, result: STORED });
    expect(stored.output).toContain('lone:\uFFFD'); // a lone surrogate in the warm capture
    safe(exits(await cli(['fn', 'invoke', 'poisonw', '--data', '{"raise": true}']), 6));
  });

  it('bulk, cold and warm: every item answered and stored, items flagged, NDJSON exact', async () => {
    const inputs = file('inputs.jsonl', '{}\n{}\n{}\n');
    for (const [name, extra] of [
      ['poison', ['--cold']],
      ['poisonw', []],
    ] as const) {
      const r = exits(await cli(['fn', 'invoke', name, '--bulk', inputs, ...extra]), 0);
      safe(r);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { status: string; result: unknown });
      expect(lines.map((l) => l.status)).toEqual(['success', 'success', 'success']);
      for (const l of lines) expect(l.result).toEqual(EXACT);
      const bulkId = r.stderr.match(REQUEST_ID)![1]!;
      expect((await row(bulkId)).status).toBe('success');
      const items = await rows<{ sanitized: boolean; status: string; result: unknown }>('SELECT sanitized, status, result FROM request_items WHERE request_id = $1 ORDER BY idx', [bulkId]);
      expect(items).toEqual([0, 1, 2].map(() => ({ sanitized: true, status: 'success', result: STORED })));
      const shown = safe(exits(await cli(['request', 'show', bulkId, '--items']), 0));
      for (const line of shown.stdout.trim().split('\n')) expect(JSON.parse(line)).toMatchObject({ status: 'success', sanitized: true, result: STORED });
    }
  });

  it('a warm function printing 50 MB answers with outputTruncated and a notice of what was dropped', async () => {
    exits(await cli(['fn', 'deploy', join(dir, 'big.py'), '--warm', '1', '--workers', '1']), 0);
    const human = exits(await cli(['fn', 'invoke', 'big']), 0);
    expect(JSON.parse(human.stdout)).toEqual({ printed: 50 << 20 });
    expect(human.stderr).toMatch(/\[faasctl\] output truncated: 65536 of 52428801 bytes relayed/);
    expect(human.stderr.length).toBeLessThan(70_000);
    const answer = JSON.parse(exits(await cli(['--json', 'fn', 'invoke', 'big']), 0).stdout) as { requestId: string; mode: string; outputTruncated: boolean };
    expect(answer).toMatchObject({ mode: 'warm', outputTruncated: true });
    const stored = await row(answer.requestId);
    expect(stored).toMatchObject({ status: 'success', output_truncated: true });
    expect(Buffer.byteLength(stored.output!)).toBeLessThanOrEqual(65_536);
    exits(await cli(['fn', 'delete', 'big']), 0);
  });

  it('binary code and input are refused with exit 2 and nothing stored', async () => {
    // A file without a zip's signature is read as Python source, byte by byte.
    const binary = join(dir, 'x.py');
    writeFileSync(binary, Buffer.from([0x64, 0x65, 0x66, 0x20, 0x66, 0x00, 0x00, 0x00, 0x08, 0x00, 0xff, 0xfe]));
    // One with the signature is read as an archive (issue 19): a truncated one is refused by the zip reader.
    const zip = join(dir, 'x.zip');
    writeFileSync(zip, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0xff, 0xfe]));
    const binDir = join(dir, 'bindir');
    mkdirSync(binDir, { recursive: true });
    writeFileSync(join(binDir, 'main.py'), Buffer.from([0x64, 0x65, 0x66, 0xc3, 0x28]));
    const data = join(dir, 'in.bin');
    writeFileSync(data, Buffer.from([0x7b, 0x7d, 0xff, 0x00]));
    const before = await counts();
    const refused = async (args: string[], message: RegExp, input?: string, errorCode = 'not_text') => {
      const r = exits(await cli(args, input), 2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error/);
      const j = exits(await cli(['--json', ...args], input), 2);
      expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: errorCode, exitCode: 2 } });
    };
    const code = /is not a UTF-8 text file \(byte 0x[0-9a-f]{2} at offset \d+\); a function is Python source/;
    await refused(['fn', 'deploy', binary], /^error: .*x\.py is not a UTF-8 text file \(byte 0x00 at offset 5\); a function is Python source[^\n]*\nhint: /m);
    await refused(['fn', 'deploy', zip], /^error: .*x\.zip is not a zip archive faasctl can read: [^\n]+\nhint: make it with zip -r/m, undefined, 'bad_file');
    await refused(['fn', 'deploy', binDir], code);
    await refused(['fn', 'update', 'poison', binary], code);
    await refused(['fn', 'run', binary], code);
    await refused(['fn', 'invoke', 'poison', '--data-file', data], /in\.bin is not a UTF-8 text file \(byte 0xff at offset 2\); the input is one JSON document/);
    await refused(['fn', 'invoke', 'poison'], /stdin is not a UTF-8 text file \(byte 0x00 at offset 7\)/, '{"a": "\u0000"}');
    await refused(['fn', 'invoke', 'poison', '--bulk', data], /--bulk takes JSON lines/);
    expect(await counts()).toEqual(before);
  });

  it('gc records a poisonous run nobody waited for; then gc and fn delete succeed and nothing of the installation is left', async () => {
    const asyncId = exits(await cli(['fn', 'invoke', 'poison', '--async']), 0).stdout.trim();
    // gc records only what has ended: wait (bounded) for the job's task to complete first.
    const byRequest = { label: [`io.faasctl.request=${asyncId}`] };
    const ended = async () => ((await docker.listTasks({ filters: JSON.stringify(byRequest) } as object)) as Array<{ Status?: { State?: string } }>).some((t) => t.Status?.State === 'complete');
    await waitFor("the poisonous job's task to complete", ended, 60_000, 250);
    exits(await cli(['gc']), 0);
    expect(await row(asyncId)).toMatchObject({ status: 'success', sanitized: true, result: STORED });
    for (const name of ['poison', 'poisonw']) exits(await cli(['fn', 'delete', name]), 0);
    exits(await cli(['gc']), 0);
    expect(await rows("SELECT id FROM requests WHERE status IN ('pending', 'running')")).toEqual([]);
    const mine = { label: [`io.faasctl.installation=${installation}`] };
    // Removal is asynchronous on the engine (a replica's container stops after its service goes):
    // wait, bounded, for it to settle, then look.
    const present = async () => (await docker.listServices({ filters: JSON.stringify(mine) } as object)).length + (await docker.listContainers({ all: true, filters: JSON.stringify(mine) })).length;
    await waitFor("the installation's services and containers to go", async () => (await present()) === 0, 30_000, 250);
    expect(await docker.listServices({ filters: JSON.stringify(mine) } as object)).toEqual([]);
    expect(await docker.listConfigs({ filters: JSON.stringify(mine) } as object)).toEqual([]);
    expect(await docker.listSecrets({ filters: JSON.stringify(mine) })).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: JSON.stringify(mine) })).toEqual([]);
  });
});
