import { CancelledError, NonInteractiveError } from '../base/errors.js';
import type { IO } from './io.js';
import { importExternal } from '../base/external.js';
import type { MenuLine } from './menu-prompt.js';

/** One entry of a select; a string entry is a heading that cannot be picked. */
export type Choice<T> = { name: string; value: T; description?: string } | string;

/** Questions to a person. Behind an interface so tests can answer them. */
export interface Prompter {
  password(message: string): Promise<string>;
  confirm(message: string, defaultValue?: boolean): Promise<boolean>;
  /** A line of text; `validate` answers true or the message to show. */
  input(message: string, options?: { default?: string; validate?: (value: string) => true | string }): Promise<string>;
  select<T>(message: string, choices: Array<Choice<T>>, options?: { pageSize?: number; default?: T }): Promise<T>;
  /** The menu: numbered entries paged under a status line. Esc does nothing here; Ctrl-C is a CancelledError. */
  menu<T>(message: string, status: string, lines: Array<MenuLine<T>>, options?: { default?: T }): Promise<T>;
  /** Waits for any key (Ctrl-C and Esc included) so what is on the screen can be read. */
  pause(message: string): Promise<void>;
  /**
   * Reads and drops what was typed ahead. `untilExit`: keeps dropping until faasctl ends, so
   * nothing typed (a password) falls into the shell; else only what is already queued.
   */
  drainInput(options?: { untilExit?: boolean }): Promise<void>;
}

/** How long to keep reading typed-ahead bytes: what is already in the terminal's queue comes at once. */
const DRAIN_MS = 50;

type PromptContext = { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; signal: AbortSignal };

/** inquirer, loaded on first use; refuses at once when stdin is not a terminal. Ctrl-C is a CancelledError. */
export class InquirerPrompter implements Prompter {
  constructor(private readonly io: IO) {}

  private async ask<T>(flagHint: string, fn: (p: typeof import('@inquirer/prompts'), ctx: PromptContext) => Promise<T>, escGoesBack = true): Promise<T> {
    if (!this.io.stdinIsTTY || !this.io.stderrIsTTY) {
      throw new NonInteractiveError('this needs an answer and there is no terminal to ask on', { hint: flagHint });
    }
    const prompts = await importExternal<typeof import('@inquirer/prompts')>('@inquirer/prompts');
    const input = this.io.streams.stdin;
    // Esc goes back: inquirer has no key for it, but a prompt ends on its abort signal.
    // readline (which the prompt starts) reports a lone Esc as the key "escape".
    const esc = new AbortController();
    const onKey = (_: unknown, key?: { name?: string }) => {
      if (key?.name === 'escape') esc.abort();
    };
    if (escGoesBack) input.on('keypress', onKey);
    try {
      return await fn(prompts, { input, output: this.io.streams.stderr, signal: esc.signal });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new CancelledError('cancelled');
      throw err;
    } finally {
      input.off('keypress', onKey);
    }
  }

  async menu<T>(message: string, status: string, lines: Array<MenuLine<T>>, options: { default?: T } = {}): Promise<T> {
    const [core, { menuPrompt }] = await Promise.all([importExternal<typeof import('@inquirer/core')>('@inquirer/core'), import('./menu-prompt.js')]);
    const rows = (this.io.streams.stderr as { rows?: number }).rows || 24;
    const style = { active: (t: string) => this.io.c.cyan(t), dim: (t: string) => this.io.c.dim(t) };
    // Cursor home, screen cleared: the menu starts on top with its status line (the last screen goes to the scrollback).
    this.io.streams.stderr.write('\x1b[H\x1b[2J');
    return this.ask('', (_, ctx) => menuPrompt<T>(core)({ message, status, lines, rows, style, default: options.default }, ctx), false);
  }

  async pause(message: string): Promise<void> {
    const [core, { pausePrompt }] = await Promise.all([importExternal<typeof import('@inquirer/core')>('@inquirer/core'), import('./menu-prompt.js')]);
    await this.ask('', (_, ctx) => pausePrompt(core)({ message: this.io.c.dim(message) }, ctx), false).catch((err: unknown) => {
      if (!(err instanceof CancelledError)) throw err;
    });
  }

  async drainInput(options: { untilExit?: boolean } = {}): Promise<void> {
    const stdin = this.io.streams.stdin as NodeJS.ReadStream;
    if (!stdin.isTTY) return;
    const drop = () => {};
    stdin.setRawMode(true);
    stdin.on('data', drop);
    stdin.resume();
    await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
    // Unreferenced, the reading goes on without keeping the process alive; Node restores the terminal's mode at exit.
    if (options.untilExit) return void stdin.unref();
    stdin.off('data', drop);
    stdin.pause();
    stdin.setRawMode(false);
  }

  password(message: string): Promise<string> {
    return this.ask('pass --password-stdin or set FAASCTL_PASSWORD', (p, ctx) => p.password({ message, mask: true }, ctx));
  }

  confirm(message: string, defaultValue = false): Promise<boolean> {
    return this.ask('pass --yes to confirm without a prompt', (p, ctx) => p.confirm({ message, default: defaultValue }, ctx));
  }

  input(message: string, options: { default?: string; validate?: (value: string) => true | string } = {}): Promise<string> {
    return this.ask('pass the value as a flag or argument', (p, ctx) => p.input({ message, default: options.default, validate: options.validate }, ctx));
  }

  select<T>(message: string, choices: Array<Choice<T>>, options: { pageSize?: number; default?: T } = {}): Promise<T> {
    return this.ask('pass the value as a flag or argument', (p, ctx) =>
      p.select<T>({ message, pageSize: options.pageSize, default: options.default, loop: false, choices: choices.map((c) => (typeof c === 'string' ? new p.Separator(c) : c)) }, ctx),
    );
  }
}
