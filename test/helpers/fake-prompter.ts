import { CancelledError } from '../../src/base/errors.js';
import type { Choice, Prompter } from '../../src/cli/prompter.js';

type Answer = { kind: keyof Prompter; message?: RegExp; answer: unknown } | { kind: keyof Prompter; message?: RegExp; cancel: true };

/** Answers prompts from a script, in order; any prompt beyond it (or of another kind) fails the test. */
export class FakePrompter implements Prompter {
  readonly asked: string[] = [];
  constructor(private readonly script: Answer[]) {}

  private next<T>(kind: keyof Prompter, message: string): T {
    this.asked.push(message);
    const step = this.script.shift();
    if (!step) throw new Error(`unexpected prompt: ${kind} "${message}"`);
    if (step.kind !== kind || (step.message && !step.message.test(message))) throw new Error(`expected ${step.kind} ${step.message ?? ''}, got ${kind} "${message}"`);
    if ('cancel' in step) throw new CancelledError('cancelled');
    return step.answer as T;
  }

  /** Every scripted answer was used. */
  get done(): boolean {
    return this.script.length === 0;
  }

  async password(message: string) {
    return this.next<string>('password', message);
  }
  async confirm(message: string) {
    return this.next<boolean>('confirm', message);
  }
  async input(message: string) {
    return this.next<string>('input', message);
  }
  async select<T>(message: string, _choices: Array<Choice<T>>) {
    return this.next<T>('select', message);
  }
  async menu<T>(message: string) {
    return this.next<T>('menu', message);
  }
  /** Holding the screen is no question: answered at once, not scripted. */
  async pause() {}
  async drainInput() {}
}
