import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { IO } from '../../src/cli/io.js';
import { InquirerPrompter } from '../../src/cli/prompter.js';
import { MENU } from '../../src/cli/commands/menu/actions.js';
import { NotFoundError } from '../../src/base/errors.js';
import { menuHint } from '../../src/cli/commands/menu/hints.js';
import { menuLines, numbered } from '../../src/cli/commands/menu/run.js';
import { main } from '../../src/cli/main.js';
import { FakePrompter } from '../helpers/fake-prompter.js';
import { createTestContext } from '../helpers/test-context.js';

const argv = (...args: string[]) => ['node', 'faasctl', ...args];

describe('faasctl menu', () => {
  it('has every option of the 2016 client (0–14; 15 was exit) plus login, list, show and live invoke', () => {
    const old = MENU.flatMap((g) => g.actions)
      .map((a) => a.old)
      .filter((n) => n !== undefined);
    expect(new Set(old)).toEqual(new Set(Array.from({ length: 15 }, (_, i) => i)));
    const labels = MENU.flatMap((g) => g.actions).map((a) => a.label);
    expect(labels).toEqual(expect.arrayContaining(['Log in', 'List my functions', 'Show a request', 'Invoke a function with live output']));
    const { lines } = menuLines();
    const entries = lines.filter((l) => 'number' in l) as Array<{ number: number; label: string }>;
    // The 2016 numbers are shown and typed; 15 (its exit) is still Exit; the newer entries follow from 16.
    expect(entries.find((e) => e.label === 'Create a user')?.number).toBe(0);
    expect(entries.find((e) => e.label === 'Execute a function N times (bulk)')?.number).toBe(13);
    expect(entries.find((e) => e.label === 'Poll all requests of this session')?.number).toBe(14);
    expect(entries.at(-1)).toMatchObject({ number: 15, label: 'Exit' });
    expect(entries.find((e) => e.label === 'Log in')?.number).toBe(16);
    const numbers = entries.map((e) => e.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i));
    expect(labels).toEqual(expect.arrayContaining(['Stats of my functions', 'Top: live view (q goes back)', 'Report: an HTML file of the stats']));
  });

  it('hints inside the menu name its entries, not commands', () => {
    const err = new NotFoundError('not logged in', { hint: 'run faasctl login USER' });
    expect(menuHint(err, numbered()).hint).toBe('pick 16. Log in');
    expect(menuHint(err, numbered())).toBeInstanceOf(NotFoundError);
    const other = new NotFoundError('x', { hint: 'faasctl gc --dry-run' });
    expect(menuHint(other, numbered())).toBe(other);
  });

  it('fails at once without a terminal: exit 4, naming the commands, no prompt', async () => {
    const prompter = new FakePrompter([]);
    const t = createTestContext({ prompter, tty: false });
    expect(await main(argv('menu'), t.ctx)).toBe(4);
    expect(t.stderr()).toContain('needs a terminal');
    expect(t.stderr()).toContain('hint: use the commands instead: faasctl login');
    expect(prompter.asked).toEqual([]);
  });

  it('Ctrl-C in a question returns to the menu; an error is shown and the menu comes back; Exit is 0', async () => {
    const prompter = new FakePrompter([
      { kind: 'menu', answer: 5 }, // Create a function from a file
      { kind: 'input', message: /Python file/, cancel: true },
      { kind: 'menu', answer: 4 }, // List my functions: not logged in
      { kind: 'menu', answer: 'exit' },
    ]);
    const t = createTestContext({ prompter, tty: true, env: { NO_COLOR: '1' } });
    expect(await main(argv('menu'), t.ctx)).toBe(0);
    expect(t.stderr()).not.toMatch(/\x1b\[/);
    expect(prompter.done).toBe(true);
    expect(t.stderr()).toContain('cancelled: back to the menu');
    expect(t.stderr()).toContain('error: not logged in');
    expect(t.stderr()).toContain('hint: pick 16. Log in');
  });

  it('Ctrl-C at the menu itself exits 130', async () => {
    const t = createTestContext({ prompter: new FakePrompter([{ kind: 'menu', cancel: true }]), tty: true });
    expect(await main(argv('menu'), t.ctx)).toBe(130);
  });

  it('drains type-ahead: after Ctrl-C at the menu it keeps reading (raw, unreferenced) until exit; before a pause only what is queued', async () => {
    const fakeTty = () => Object.assign(new EventEmitter(), { isTTY: true, setRawMode: vi.fn(), resume: vi.fn(), pause: vi.fn(), unref: vi.fn() });
    const stdin = fakeTty();
    const io = new IO({ stdin: stdin as unknown as NodeJS.ReadStream, stdout: new PassThrough(), stderr: Object.assign(new PassThrough(), { isTTY: true }) }, {});
    await new InquirerPrompter(io).drainInput({ untilExit: true });
    // Still reading and dropping: a password typed while faasctl ends does not reach the shell.
    expect(stdin.setRawMode.mock.calls).toEqual([[true]]);
    expect(stdin.listenerCount('data')).toBe(1);
    expect(stdin.unref).toHaveBeenCalled();
    expect(stdin.pause).not.toHaveBeenCalled();

    const queued = fakeTty();
    const io2 = new IO({ stdin: queued as unknown as NodeJS.ReadStream, stdout: new PassThrough(), stderr: Object.assign(new PassThrough(), { isTTY: true }) }, {});
    await new InquirerPrompter(io2).drainInput();
    expect(queued.setRawMode.mock.calls).toEqual([[true], [false]]);
    expect(queued.listenerCount('data')).toBe(0);
    expect(queued.pause).toHaveBeenCalled();
  });
});
