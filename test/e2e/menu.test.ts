import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { NONE, query, settledLeftovers } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { TmuxSession } from '../helpers/tmux.js';

const SUM = resolve(import.meta.dirname, '../../examples/sum.py');

/** Numbers of the menu's entries (typing the number and Enter picks one). */
const PICK = { login: '1', deploy: '6', execute: '9', invoke: '10', bulkExecute: '11', pollOne: '19', pollAll: '20', exit: '23' };

/**
 * `faasctl menu` in a real pseudo-terminal (tmux), on the real Swarm and PostgreSQL:
 * a person's session typed key by key, judged by what the screen shows.
 */
describe('faasctl menu in a terminal', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  let term: TmuxSession | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    const created = await runCli(['user', 'create', 'menu-user', '--password-stdin'], { env, input: 'menu-user-pass' });
    expect(created.code, created.stderr).toBe(0);
  });
  afterEach(async () => {
    term?.kill();
    term = undefined;
    expect(await settledLeftovers(db.url)).toEqual(NONE);
  });
  afterAll(async () => db?.drop());

  it('logs in, deploys examples/sum.py, executes it, bulk-executes it 5 times, polls the session and exits 0', async () => {
    const t = (term = new TmuxSession(['menu'], env));
    await t.waitFor(/not logged in[\s\S]*23\. Exit/);

    t.type(PICK.login, 'Enter');
    await t.waitFor(/User name/);
    t.type('menu-user', 'Enter');
    await t.waitFor(/Password for menu-user/);
    t.type('menu-user-pass', 'Enter');
    await t.waitFor(/logged in as menu-user \(context "default"/);
    expect(t.screen()).not.toContain('menu-user-pass');
    await t.waitFor(/context default · logged in as menu-user/);

    // Ctrl-C in a question cancels that operation only.
    t.type(PICK.deploy, 'Enter');
    await t.waitFor(/Python file/);
    t.keys('C-c');
    await t.waitFor(/cancelled: back to the menu[\s\S]*23\. Exit/);
    expect(t.exitStatus()).toBeUndefined();

    // The cancelled prompt's line is still on the screen: wait for a new one.
    await t.after(() => t.type(PICK.deploy, 'Enter'), /\? Python file/);
    t.type(SUM, 'Enter');
    await t.waitFor(/Function name \(sum\)/);
    t.keys('Enter');
    await t.waitFor(/deployed sum v1 \(entry main\(args\) \(main\); .*sha256 [0-9a-f]{12}\)/, 60_000);

    // Execute, the old way: a request id at once, the result by polling. The function is picked from a list.
    const before = t.count(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    t.type(PICK.execute, 'Enter');
    await t.waitFor(/Function to execute[\s\S]*❯ sum/);
    t.keys('Enter');
    await t.waitFor(/\? Input/);
    t.keys('Enter'); // type JSON
    await t.waitFor(/Input JSON/);
    t.type('{"numbers": [1, 2, 3, 4]}', 'Enter');
    const executed = await t.waitFor(/Input JSON[^\n]*\n([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\n/);
    const requestId = /Input JSON[^\n]*\n([0-9a-f-]{36})\n/.exec(executed)![1]!;
    expect(t.count(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)).toBe(before + 1);

    // Invoke with live output: the result on the screen. Each prompt is waited for as a new one:
    // the same words from the step before are still on the screen.
    await t.after(() => t.type(PICK.invoke, 'Enter'), /Function to invoke/);
    await t.after(() => t.keys('Enter'), /\? Input/);
    await t.after(() => t.keys('Enter'), /Input JSON/);
    await t.after(() => t.type('{"numbers": [10, 20, 12]}', 'Enter'), /\{"sum":42,"count":3\}/, 60_000);

    await t.after(() => t.type(PICK.bulkExecute, 'Enter'), /Function to execute[\s\S]*❯ sum/);
    await t.after(() => t.keys('Enter'), /\? Input/);
    await t.after(() => t.keys('Enter'), /Input JSON/);
    await t.after(() => t.type('{"numbers": [2, 3]}', 'Enter'), /How many times \(5\)/);
    t.keys('Enter');
    const bulk = await t.waitFor(/sum@v1: 5 inputs, all 5 succeeded in [\d.]+ s .*; request ([0-9a-f-]{36})/, 90_000);
    expect(bulk.match(/\{"index":\d,"version":1,"status":"success","result":\{"sum":5,"count":2\}/g)).toHaveLength(5);

    t.type(PICK.pollAll, 'Enter');
    const polled = await t.waitFor(/fn\.invoke\.bulk\s+success\s+sum@v1/, 60_000);
    const table = polled.slice(polled.lastIndexOf('✔ faasctl 20. Poll all requests'));
    expect(table).toMatch(/ID\s+TYPE\s+STATUS\s+TARGET\s+DURATION\s+CREATED/);
    // The executed request was recorded by the poll, not left running.
    // A terminal shows the 12-character id (the table is request list's).
    expect(table).toMatch(new RegExp(`${requestId.slice(0, 12)}\\s+fn\\.invoke\\s+success\\s+sum@v1`));
    expect(table.match(/fn\.invoke\s+success\s+sum@v1/g)).toHaveLength(2);
    expect(table).toMatch(/fn\.deploy\s+success\s+sum@v1/);
    expect(table).not.toMatch(/user\.create/); // before this session

    // Poll one: picked from the session's requests.
    t.type(PICK.pollOne, 'Enter');
    await t.waitFor(/\? Request/);
    t.keys('Enter'); // the newest: the bulk run
    await t.waitFor(/FIELD\s+VALUE[\s\S]*type\s+fn\.invoke\.bulk/);

    t.type(PICK.exit, 'Enter');
    expect(await t.waitForExit()).toBe(0);
    if (process.env.FAASCTL_TEST_SCREEN) writeFileSync(process.env.FAASCTL_TEST_SCREEN, t.screen());
    expect(t.screen()).not.toMatch(/error:/);

    const rows = await query(db.url, "SELECT type, status FROM requests WHERE type LIKE 'fn.%' ORDER BY created_at");
    expect(rows).toEqual([
      { type: 'fn.deploy', status: 'success' },
      { type: 'fn.invoke', status: 'success' },
      { type: 'fn.invoke', status: 'success' },
      { type: 'fn.invoke.bulk', status: 'success' },
    ]);
    expect((await runCli(['fn', 'delete', 'sum'], { env })).code).toBe(0);
  });

  it('shows an error and comes back; Ctrl-C at the menu exits 130', async () => {
    const t = (term = new TmuxSession(['menu'], isolatedEnv({ FAASCTL_DATABASE_URL: db.url })));
    await t.waitFor(/23\. Exit/);
    t.type(PICK.pollAll, 'Enter');
    await t.waitFor(/error: not logged in \(context "default"\)\nhint: run faasctl login USER[\s\S]*23\. Exit/);
    t.keys('C-c');
    expect(await t.waitForExit()).toBe(130);
  });

  it('off a terminal, fails at once with 4 and names the commands to use', async () => {
    const r = await runCli(['menu'], { env, timeoutMs: 10_000 });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: faasctl menu needs a terminal/);
    expect(r.stderr).toMatch(/hint: use the commands instead: faasctl login, user create\|update\|delete, fn deploy/);
    // A screen is no data: --json is refused as a usage error, terminal or not.
    const json = await runCli(['--json', 'menu'], { env, timeoutMs: 10_000 });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('json_unsupported');
  });
});
