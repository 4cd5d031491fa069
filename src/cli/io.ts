import { stripVTControlCharacters } from 'node:util';
import { Chalk, type ChalkInstance } from 'chalk';
import type { Env } from '../config/resolve.js';
import { importExternal } from '../base/external.js';
import { jsonForTerminal, terminalSafe } from './terminal-text.js';

export interface Streams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  debug: boolean;
  /** false when --no-color was given. */
  color: boolean;
}

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
  /** A line on stderr that stays (written above a running spinner). */
  note(text: string): void;
}

/**
 * Everything a command writes goes through here: data to stdout, everything else to
 * stderr, colour only when wanted, spinners only for a person at a terminal.
 */
export class IO {
  options: OutputOptions = { json: false, quiet: false, debug: false, color: true };
  private chalk?: ChalkInstance;

  /** With --jq: what replaces stdout (see jq-output.ts); the real stdout stays for errors. */
  private filter?: NodeJS.WritableStream & { isTTY?: boolean; settle(): Promise<void> };

  constructor(
    private readonly base: Streams,
    private readonly env: Env,
  ) {}

  get streams(): Streams {
    const { base, filter } = this;
    if (!filter) return base;
    return {
      get stdin() {
        return base.stdin;
      },
      stdout: filter,
      get stderr() {
        return base.stderr;
      },
    };
  }

  /** From here on stdout goes through `filter` (--jq); `settleOutput` waits for it. */
  filterStdout(filter: NodeJS.WritableStream & { isTTY?: boolean; settle(): Promise<void> }): void {
    this.filter = filter;
  }

  /** The real stdout: an error document is not data to select from. */
  get rawStdout(): NodeJS.WritableStream {
    return this.base.stdout;
  }

  async settleOutput(): Promise<void> {
    await this.filter?.settle();
  }

  configure(options: Partial<OutputOptions>): void {
    this.options = { ...this.options, ...options };
    this.chalk = undefined;
  }

  get stdoutIsTTY(): boolean {
    return Boolean(this.streams.stdout.isTTY);
  }

  get stderrIsTTY(): boolean {
    return Boolean(this.streams.stderr.isTTY);
  }

  get stdinIsTTY(): boolean {
    return Boolean(this.streams.stdin.isTTY);
  }

  /** chalk ignores NO_COLOR, so the decision is made here. */
  get colorEnabled(): boolean {
    if (!this.options.color || this.options.json) return false;
    if (this.env.NO_COLOR !== undefined && this.env.NO_COLOR !== '') return false;
    if (this.env.FORCE_COLOR && this.env.FORCE_COLOR !== '0') return true;
    return this.stderrIsTTY || this.stdoutIsTTY;
  }

  get c(): ChalkInstance {
    this.chalk ??= new Chalk({ level: this.colorEnabled ? 1 : 0 });
    return this.chalk;
  }

  out(text: string): void {
    this.streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  err(text: string): void {
    this.streams.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /**
   * What a function prints, relayed live to stderr for a person (not with -q or --json), its
   * control characters spelled out so it cannot drive the terminal.
   */
  relay(text: string): void {
    if (!this.options.quiet && !this.options.json) this.streams.stderr.write(terminalSafe(text));
  }

  /** Progress and notes for a person: suppressed by -q and --json. */
  info(text: string): void {
    if (!this.options.quiet && !this.options.json) this.err(text);
  }

  /** With the milliseconds since the process started: where a slow command spends its time. */
  debug(text: string): void {
    if (this.options.debug) this.err(this.c.dim(`debug: +${Math.round(performance.now())}ms ${text}`));
  }

  json(value: unknown): void {
    this.out(jsonForTerminal(JSON.stringify(value, null, this.stdoutIsTTY ? 2 : undefined)));
  }

  /**
   * A table for a terminal; tab-separated lines without a header when piped. `dropFirst`: the
   * columns (by heading) that give way, in that order, while the table is wider than the terminal.
   */
  async table(head: string[], rows: Array<Array<string | number | undefined>>, options: { dropFirst?: string[] } = {}): Promise<void> {
    let cells = rows.map((r) => r.map((v) => (v === undefined ? '' : String(v))));
    if (this.stdoutIsTTY && options.dropFirst) ({ head, cells } = fitted(head, cells, options.dropFirst, (this.streams.stdout as { columns?: number }).columns));
    if (!this.stdoutIsTTY) {
      // For scripts: no escape codes even when colour is forced (a status cell may be coloured).
      for (const row of cells) this.out(row.map((v) => stripVTControlCharacters(v).replace(/[\t\n]/g, ' ')).join('\t'));
      return;
    }
    const { default: Table } = await importExternal<{ default: typeof import('cli-table3') }>('cli-table3');
    const style = this.colorEnabled ? { head: ['bold'] } : { head: [], border: [] };
    const table = new Table({
      head: head.map((h) => h.toUpperCase()),
      style,
      chars: {
        top: '',
        'top-mid': '',
        'top-left': '',
        'top-right': '',
        bottom: '',
        'bottom-mid': '',
        'bottom-left': '',
        'bottom-right': '',
        left: '',
        'left-mid': '',
        mid: '',
        'mid-mid': '',
        right: '',
        'right-mid': '',
        middle: '  ',
      },
    });
    table.push(...cells);
    this.out(
      table
        .toString()
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n'),
    );
  }

  /** A spinner on stderr, only for a TTY outside CI and without --json or -q; `intervalMs`: how often it redraws. */
  async spinner(text: string, intervalMs?: number): Promise<Spinner> {
    // A terminal of zero columns (e.g. under `script`) makes ora redraw forever.
    const columns = (this.streams.stderr as { columns?: number }).columns ?? 80;
    const wanted = this.stderrIsTTY && columns > 0 && !this.options.json && !this.options.quiet && !this.env.CI;
    if (!wanted) return { update() {}, succeed() {}, fail() {}, stop() {}, note: (t) => this.err(t) };
    const { default: ora } = await importExternal<typeof import('ora')>('ora');
    // discardStdin would take stdin into raw mode and pause it: the menu's next prompt needs it.
    const spinner = ora({
      text,
      stream: this.streams.stderr as NodeJS.WritableStream & { isTTY: boolean },
      color: 'cyan',
      isEnabled: this.colorEnabled,
      discardStdin: false,
      ...(intervalMs ? { interval: intervalMs } : {}),
    }).start();
    return {
      update: (t) => {
        spinner.text = t;
      },
      succeed: (t) => void spinner.succeed(t),
      fail: (t) => void spinner.fail(t),
      stop: () => void spinner.stop(),
      note: (t) => {
        spinner.clear();
        this.err(t);
        spinner.render();
      },
    };
  }
}

/** Columns dropped (in the order given) until the table fits the terminal's width, when known. */
function fitted(head: string[], cells: string[][], dropFirst: string[], columns: number | undefined): { head: string[]; cells: string[][] } {
  if (!columns) return { head, cells };
  const width = (h: string[], c: string[][]) =>
    // cli-table3 pads each cell by one space on either side; columns are joined by two spaces.
    h.reduce((sum, name, i) => sum + 2 + Math.max(name.length, ...c.map((r) => stripVTControlCharacters(r[i] ?? '').length)), 0) + 2 * Math.max(0, h.length - 1);
  for (const name of dropFirst) {
    if (width(head, cells) <= columns) break;
    const i = head.indexOf(name);
    if (i < 0) continue;
    head = head.filter((_, j) => j !== i);
    cells = cells.map((r) => r.filter((_, j) => j !== i));
  }
  return { head, cells };
}
