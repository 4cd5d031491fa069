import { CancelledError, NonInteractiveError } from '../base/errors.js';
import type { IO } from './io.js';
import { importExternal } from '../base/external.js';

/** One entry of a select; a string entry is a heading that cannot be picked. */
export type Choice<T> = { name: string; value: T; description?: string } | string;

/** Questions to a person. Behind an interface so tests can answer them. */
export interface Prompter {
  password(message: string): Promise<string>;
  confirm(message: string, defaultValue?: boolean): Promise<boolean>;
  /** A line of text; `validate` answers true or the message to show. */
  input(message: string, options?: { default?: string; validate?: (value: string) => true | string }): Promise<string>;
  select<T>(message: string, choices: Array<Choice<T>>, options?: { pageSize?: number; default?: T }): Promise<T>;
}

/** inquirer, loaded on first use; refuses at once when stdin is not a terminal. Ctrl-C is a CancelledError. */
export class InquirerPrompter implements Prompter {
  constructor(private readonly io: IO) {}

  private async ask<T>(flagHint: string, fn: (p: typeof import('@inquirer/prompts'), ctx: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream }) => Promise<T>): Promise<T> {
    if (!this.io.stdinIsTTY || !this.io.stderrIsTTY) {
      throw new NonInteractiveError('this needs an answer and there is no terminal to ask on', { hint: flagHint });
    }
    const prompts = await importExternal<typeof import('@inquirer/prompts')>('@inquirer/prompts');
    try {
      return await fn(prompts, { input: this.io.streams.stdin, output: this.io.streams.stderr });
    } catch (err) {
      if ((err as Error).name === 'ExitPromptError') throw new CancelledError('cancelled');
      throw err;
    }
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
