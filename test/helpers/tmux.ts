import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN } from './cli.js';
import { tempDir } from './temp.js';

/**
 * The built binary in a real pseudo-terminal: a tmux session on a private server socket.
 * Keys go in with send-keys, the screen comes back with capture-pane (history included).
 */
export class TmuxSession {
  private readonly dir = tempDir('faasctl-tmux-');
  // -S (a path) rather than -L (a name under /tmp/tmux-UID): tmux leaves its socket file behind
  // after kill-server, and here it goes with the run's temp root.
  private readonly socket = join(this.dir, 'socket');
  private readonly name = 'menu';
  private readonly statusFile = join(this.dir, 'status');

  /** `afterExit`: shell words run in the same terminal once faasctl has ended (e.g. a `read` that shows what reached the shell). */
  constructor(args: string[], env: Record<string, string | undefined>, size = { columns: 140, rows: 50 }, afterExit = '') {
    const vars = Object.entries({ PATH: process.env.PATH, TERM: 'xterm-256color', ...env })
      .filter(([, v]) => v !== undefined)
      .flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // remain-on-exit keeps the pane after faasctl ends, so its exit status can be read.
    // tmux 3.3 often leaves #{pane_dead_status} blank, so a shell writes the exit status to a file.
    const script = `"${process.execPath}" "$@"; echo $? > "$FAASCTL_TMUX_STATUS"${afterExit ? `; ${afterExit}` : ''}`;
    this.tmux(
      '-f',
      '/dev/null',
      'set-option',
      '-g',
      'remain-on-exit',
      'on',
      ';',
      'set-option',
      '-g',
      'history-limit',
      '10000',
      ';',
      'new-session',
      '-d',
      '-s',
      this.name,
      '-x',
      String(size.columns),
      '-y',
      String(size.rows),
      ...vars,
      '-e',
      `FAASCTL_TMUX_STATUS=${this.statusFile}`,
      '/bin/sh',
      '-c',
      script,
      'sh',
      BIN,
      ...args,
    );
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Literal text (no key names), then optional keys such as Enter or C-c. */
  type(text: string, ...keys: string[]): void {
    if (text) this.tmux('send-keys', '-t', this.name, '-l', text);
    if (keys.length) this.tmux('send-keys', '-t', this.name, ...keys);
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Everything the terminal showed, scrollback included, lines joined where they wrapped. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.name);
  }

  /** Only what the terminal shows now (its rows), without the scrollback. */
  visible(): string {
    return this.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** With escape sequences, to check what colour there is. */
  screenWithEscapes(): string {
    return this.tmux('capture-pane', '-p', '-e', '-J', '-S', '-', '-t', this.name);
  }

  /** Waits until the screen matches; the last screen is in the error when it never does. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < end) {
      screen = this.screen();
      if (pattern.test(screen)) return screen;
      await sleep(100);
    }
    throw new Error(`screen never matched ${pattern}:\n${screen}`);
  }

  /**
   * Does `act` (keys typed) and waits for one more match of `pattern` than there was before it:
   * a prompt that an earlier step already left in the scrollback does not count.
   */
  async after(act: () => void, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const before = this.count(pattern);
    act();
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.count(pattern) > before) return this.screen();
      await sleep(100);
    }
    throw new Error(`screen never showed another ${pattern}:\n${this.screen()}`);
  }

  /** Waits until what the terminal shows now (not the scrollback) matches. */
  async waitForVisible(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < end) {
      screen = this.visible();
      if (pattern.test(screen)) return screen;
      await sleep(100);
    }
    throw new Error(`the terminal never showed ${pattern}:\n${screen}`);
  }

  /** Number of matches of the pattern on the screen so far. */
  count(pattern: RegExp): number {
    return (this.screen().match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? []).length;
  }

  /** The exit status once faasctl has ended, or undefined while it runs. */
  exitStatus(): number | undefined {
    const status = existsSync(this.statusFile) ? readFileSync(this.statusFile, 'utf8').trim() : '';
    return status ? Number(status) : undefined;
  }

  async waitForExit(timeoutMs = 15_000): Promise<number> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const status = this.exitStatus();
      if (status !== undefined) return status;
      await sleep(100);
    }
    throw new Error(`faasctl did not exit:\n${this.screen()}`);
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}
