import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { NONE, query, settledLeftovers } from '../helpers/leftovers.js';
import { tempDir } from '../helpers/temp.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { TmuxSession } from '../helpers/tmux.js';

const SUM = resolve(import.meta.dirname, '../../examples/sum.py');
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** The entries' numbers: the 2016 client's (0–14, 15 its exit), the newer ones from 16. */
const N = {
  createUser: '0',
  updateMe: '1',
  deleteMe: '2',
  deploy: '3',
  update: '4',
  delete: '5',
  execute: '6',
  bulkCreateUsers: '7',
  bulkUpdateUsers: '8',
  bulkDeleteUsers: '9',
  bulkDeploy: '10',
  bulkUpdate: '11',
  bulkDelete: '12',
  bulkExecute: '13',
  pollAll: '14',
  exit: '15',
  login: '16',
  list: '17',
  invoke: '18',
  show: '19',
  pollOne: '20',
  deadLetters: '21',
  schedules: '22',
  stats: '23',
  top: '24',
  report: '25',
};

/** At the menu: its help line is on the terminal (a picked menu shows its choice instead). */
const AT_MENU = /type a number or ↑↓, then ⏎/;
const PAUSED = /press any key to go back to the menu/;

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

  /** Picks an entry by typing its number and waits for what it shows first. */
  const pick = (t: TmuxSession, n: string, shows: RegExp, timeoutMs?: number) => t.after(() => t.type(n, 'Enter'), shows, timeoutMs);
  /** The action's result stays until a key is pressed; then the menu is back. */
  const back = async (t: TmuxSession, timeoutMs?: number) => {
    await t.waitForVisible(PAUSED, timeoutMs);
    t.keys('Space');
    return t.waitForVisible(AT_MENU);
  };
  /** Answers the prompt on screen and waits for the next thing to show. */
  const answer = (t: TmuxSession, text: string, shows: RegExp, timeoutMs?: number) => t.after(() => t.type(text, 'Enter'), shows, timeoutMs);

  it('at 80×24: fits with its status line, walks every entry, Esc goes back, exits 0', async () => {
    const dir = tempDir('faasctl-menu-');
    const input = join(dir, 'input.json');
    writeFileSync(input, '{"numbers": [7, 8]}');
    const reportFile = join(dir, 'report.html');
    const sum2 = join(dir, 'sum2.py');
    writeFileSync(sum2, `${readFileSync(SUM, 'utf8')}\n# v2\n`);
    const t = (term = new TmuxSession(['menu'], env, { columns: 80, rows: 24 }));

    // The whole menu screen fits: status line on the first row, the help line on screen, paged.
    const first = await t.waitForVisible(AT_MENU);
    const rows = first.replace(/\n$/, '').split('\n');
    expect(rows[0]).toBe('faasctl menu · context default · not logged in');
    expect(rows.length).toBeLessThanOrEqual(24);
    expect(Math.max(...rows.map((r) => r.length))).toBeLessThanOrEqual(80);
    expect(first).toMatch(/❯ 16\. Log in\n {3}0\. Create a user/);
    expect(first).not.toContain('15. Exit'); // on the next page

    await pick(t, N.login, /User name/);
    await answer(t, 'menu-user', /Password for menu-user/);
    await answer(t, 'menu-user-pass', /logged in as menu-user \(context "default"/);
    expect(t.screen()).not.toContain('menu-user-pass');
    expect((await back(t)).split('\n')[0]).toBe('faasctl menu · context default · logged in as menu-user');

    await pick(t, N.updateMe, /New user name \(empty: keep\)/);
    await answer(t, '', /Set a new password\?/);
    await answer(t, '', /nothing changed/);
    await back(t);

    // Esc in a question goes back to the menu.
    await pick(t, N.deploy, /\? Python file/);
    await t.after(() => t.keys('Escape'), /cancelled: back to the menu/);
    await back(t);
    expect(t.exitStatus()).toBeUndefined();

    await pick(t, N.deploy, /\? Python file/);
    await answer(t, SUM, /Function name \(sum\)/);
    await answer(t, '', /deployed sum v1 \(entry main\(args\)/, 60_000);
    await back(t);

    // Execute from a JSON file: that prompt has its own default (none yet), not the Python file's.
    await pick(t, N.execute, /Function to execute[\s\S]*❯ sum/);
    await answer(t, '', /\? Input/);
    await t.after(() => t.keys('Down', 'Enter'), /\? JSON file/);
    expect(t.visible()).not.toMatch(/JSON file \(/);
    const executed = await answer(t, input, new RegExp(`JSON file[^\\n]*\\n(${UUID.source})\\n`));
    const requestId = new RegExp(`JSON file[^\\n]*\\n(${UUID.source})\\n`).exec(executed)![1]!;
    await back(t);

    await pick(t, N.invoke, /Function to invoke/);
    await answer(t, '', /\? Input/);
    await answer(t, '', /Input JSON/);
    const invoked = await answer(t, '{"numbers": [10, 20, 12]}', /\{"sum":42,"count":3\}/, 60_000);
    // Inside the menu, what to do next names an entry, not a command.
    expect(invoked).toMatch(/request [0-9a-f-]{36}: pick 19\. Show a request\n/);
    await back(t);

    // Bulk: a table and a summary, not NDJSON.
    await pick(t, N.bulkExecute, /Function to execute[\s\S]*❯ sum/);
    await answer(t, '', /\? Input/);
    await answer(t, '', /Input JSON/);
    await answer(t, '{"numbers": [2, 3]}', /How many times \(5\)/);
    const bulk = await answer(t, '', /sum@v1: 5 inputs, all 5 succeeded in [\d.]+ s/, 90_000);
    expect(bulk).toMatch(/#\s+STATUS\s+VERSION\s+TOOK\s+RESULT OR ERROR/);
    expect(bulk.match(/\d\s+success\s+v1\s+\d+ ms\s+\{"sum":5,"count":2\}/g)).toHaveLength(5);
    expect(bulk).toMatch(/request [0-9a-f-]{36}: pick 19\. Show a request\n/);
    expect(bulk).not.toContain('{"index"');
    await back(t, 60_000);

    const polled = await pick(t, N.pollAll, /fn\.invoke\.bulk\s+success\s+sum@v1/, 60_000);
    const table = polled.slice(polled.lastIndexOf('14. Poll all requests'));
    // The executed request was recorded by the poll, not left running (a terminal shows 12 characters of ids).
    expect(table).toMatch(new RegExp(`${requestId.slice(0, 12)}\\s+fn\\.invoke\\s+success\\s+sum@v1`));
    expect(table.match(/fn\.invoke\s+success\s+sum@v1/g)).toHaveLength(2);
    expect(table).not.toMatch(/user\.create/); // before this session
    await back(t);

    await pick(t, N.pollOne, /\? Request/);
    await answer(t, '', /\n type\s+fn\.invoke\.bulk/);
    await back(t);
    await pick(t, N.show, /\? Request/);
    await answer(t, '', /\n type\s+fn\.invoke\.bulk/);
    await back(t);
    await pick(t, N.list, /\n sum\s/);
    await back(t);

    // Update from a file: the code prompt remembers the Python file (the JSON one did not take its place).
    await pick(t, N.update, /Function to update/);
    await answer(t, '', new RegExp(`Python file \\(${SUM.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    await answer(t, sum2, /updated sum v2/, 60_000);
    await back(t);

    await pick(t, N.stats, /Since \(a duration such as 1h, 2d, or an ISO time\) \(24h\)/);
    await answer(t, '', /FUNCTION\s+CALLS/);
    await back(t);
    await pick(t, N.top, /q quits/);
    t.type('q');
    await back(t);
    await pick(t, N.report, /Write the report to \(faasctl-report\.html\)/);
    await answer(t, reportFile, /Since/);
    await answer(t, '', /wrote .*report\.html/);
    expect(readFileSync(reportFile, 'utf8')).toContain('sum');
    await back(t);
    await pick(t, N.deadLetters, /no dead letters/);
    await back(t);
    await pick(t, N.schedules, /no schedules/);
    await back(t);

    await pick(t, N.createUser, /New user name/);
    await answer(t, 'menu-other', /New password/);
    await answer(t, 'other-pass-1', /Repeat it/);
    await answer(t, 'other-pass-1', /user menu-other created.*\nnext: pick 16\. Log in\n/);
    await back(t);
    await pick(t, N.bulkCreateUsers, /Name prefix/);
    await answer(t, 'mbulk', /How many users \(5\)/);
    await answer(t, '3', /New password/);
    await answer(t, 'bulk-pass-1', /Repeat it/);
    await answer(t, 'bulk-pass-1', /3 created, 0 failed/, 60_000);
    await back(t);
    await pick(t, N.bulkUpdateUsers, /Update users whose names start with/);
    await answer(t, 'mbulk', /Rename them to the prefix/);
    await answer(t, 'mbulkz', /Give them a new password\?/);
    await answer(t, 'n', /3 updated, 0 failed/, 60_000);
    await back(t);

    await pick(t, N.bulkDeploy, /Python file \(/);
    await answer(t, '', /Name prefix/);
    await answer(t, 'bf', /How many functions/);
    await answer(t, '2', /2 deployed/, 90_000);
    await back(t);
    await pick(t, N.bulkUpdate, /Python file \(/);
    await answer(t, SUM, /Update functions whose names start with/);
    await answer(t, 'bf', /2 updated/, 90_000);
    await back(t);
    // Destructive bulk: the count is typed to confirm; a wrong one is refused.
    await pick(t, N.bulkDelete, /Delete functions whose names start with/);
    await answer(t, 'bf', /This deletes 2 functions with all their versions \(bf1, bf2\)\.[\s\S]*Type 2 to delete them/);
    await answer(t, '3', /type 2, or nothing to keep them/);
    await answer(t, '\b2', /2 deleted/, 60_000);
    await back(t);
    // Only users owning nothing, never the one logged in (menu-user owns sum).
    await pick(t, N.bulkDeleteUsers, /Delete users whose names start with/);
    await answer(t, 'm', /This deletes 4 users \(mbulkz1, mbulkz2, mbulkz3, …\) \(1 kept: you, or owning functions\)\.[\s\S]*Type 4/);
    await answer(t, '4', /4 deleted, 0 failed/, 60_000);
    await back(t);

    await pick(t, N.delete, /Function to delete/);
    await answer(t, '', /Delete sum with all its versions\?/);
    await answer(t, 'y', /deleted sum/, 60_000);
    await back(t);
    // The main question first.
    await pick(t, N.deleteMe, /\? Delete your user menu-user\? \(y\/N\)/);
    await answer(t, '', /nothing deleted/);
    await back(t);

    // Exit is on the menu's second page: its number reaches it.
    t.type(N.exit, 'Enter');
    expect(await t.waitForExit()).toBe(0);
    if (process.env.FAASCTL_TEST_SCREEN) writeFileSync(process.env.FAASCTL_TEST_SCREEN, t.screen());
    expect(t.screen()).not.toMatch(/error:/);
    expect(existsSync(reportFile)).toBe(true);

    const users = await query(db.url, 'SELECT name FROM users ORDER BY name');
    expect(users).toEqual([{ name: 'menu-user' }]);
    const invocations = await query(db.url, "SELECT type, status FROM requests WHERE type IN ('fn.invoke', 'fn.invoke.bulk') ORDER BY created_at");
    expect(invocations).toEqual([
      { type: 'fn.invoke', status: 'success' },
      { type: 'fn.invoke', status: 'success' },
      { type: 'fn.invoke.bulk', status: 'success' },
    ]);
  });

  it('larger: the whole menu on one page; a hint names the entry; Ctrl-C at the menu exits 130 and drops type-ahead', async () => {
    // After faasctl, the shell reads a line: what it gets is what would have reached the shell.
    const t = (term = new TmuxSession(['menu'], isolatedEnv({ FAASCTL_DATABASE_URL: db.url }), { columns: 120, rows: 40 }, 'read -r line; echo "shell read [$line]"'));
    const screen = await t.waitForVisible(AT_MENU);
    expect(screen).toMatch(/^faasctl menu · context default · not logged in\n/);
    expect(screen).toMatch(/16\. Log in[\s\S]*25\. Report: an HTML file of the stats\n {2}15\. Exit/);
    await pick(t, N.pollAll, /error: not logged in \(context "default"\)\nhint: pick 16\. Log in/);
    await back(t);
    // Ctrl-C and a password typed ahead, in one write to the terminal: they arrive together,
    // before faasctl can have ended, so whatever reaches the shell got past faasctl.
    t.keys('C-c', ...'hunter2'.split(''), 'Enter');
    expect(await t.waitForExit()).toBe(130);
    t.type('typed-after', 'Enter');
    await t.waitFor(/shell read \[/);
    expect(t.screen()).toContain('shell read [typed-after]');
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
