import { describe, expect, it } from 'vitest';
import { MENU } from '../../src/cli/commands/menu/actions.js';
import { menuChoices } from '../../src/cli/commands/menu/run.js';
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
    const { choices } = menuChoices();
    const names = choices.filter((c) => typeof c !== 'string').map((c) => (c as { name: string }).name);
    // Typing the number picks it: select counts only pickable entries, from 1.
    for (const [i, n] of names.entries()) expect(n.trim().startsWith(`${i + 1}. `)).toBe(true);
    expect(names.at(-1)).toMatch(/Exit$/);
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
      { kind: 'select', answer: 5 }, // Create a function from a file
      { kind: 'input', message: /Python file/, cancel: true },
      { kind: 'select', answer: 4 }, // List my functions: not logged in
      { kind: 'select', answer: 'exit' },
    ]);
    const t = createTestContext({ prompter, tty: true, env: { NO_COLOR: '1' } });
    expect(await main(argv('menu'), t.ctx)).toBe(0);
    expect(t.stderr()).not.toMatch(/\x1b\[/);
    expect(prompter.done).toBe(true);
    expect(t.stderr()).toContain('cancelled: back to the menu');
    expect(t.stderr()).toContain('error: not logged in');
  });

  it('Ctrl-C at the menu itself exits 130', async () => {
    const t = createTestContext({ prompter: new FakePrompter([{ kind: 'select', cancel: true }]), tty: true });
    expect(await main(argv('menu'), t.ctx)).toBe(130);
  });
});
