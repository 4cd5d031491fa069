import type { KeypressEvent } from '@inquirer/core';

/** One line of the menu: an entry with its own number, or a heading. */
export type MenuLine<T> = { number: number; label: string; value: T } | { heading: string };

export interface MenuPromptConfig<T> {
  /** First line, always on screen: who and where (user, context). */
  status: string;
  message: string;
  lines: Array<MenuLine<T>>;
  default?: T;
  /** Rows of the terminal; the list is paged to fit them with the status line and the help line. */
  rows: number;
  /** Colours (none with --no-color or NO_COLOR): the entry under the cursor, the help line. */
  style: { active: (text: string) => string; dim: (text: string) => string };
}

type Core = typeof import('@inquirer/core');
type Prompt<C, V> = (config: C, context: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; signal?: AbortSignal }) => Promise<V>;

/** Lines the prompt needs besides the list: status, question, a blank, the help line, the cursor's row. */
const CHROME_ROWS = 5;

/**
 * The menu as a prompt of its own (inquirer's select numbers entries by position and has one
 * line for everything): the status line on top, a page of entries that fits the terminal's
 * rows, each entry's own number shown and typed (the 2016 numbers where it had them).
 */
export function menuPrompt<T>(core: Core): Prompt<MenuPromptConfig<T>, T> {
  const { createPrompt, useState, useKeypress, usePagination, useRef, useEffect, isEnterKey, isUpKey, isDownKey, isBackspaceKey } = core;
  return createPrompt<T, MenuPromptConfig<T>>((config, done) => {
    const { lines } = config;
    const pickable = (i: number) => 'number' in (lines[i] ?? { heading: '' });
    const first = lines.findIndex((_, i) => pickable(i));
    const last = lines.length - 1 - [...lines].reverse().findIndex((_, i) => pickable(lines.length - 1 - i));
    const start = config.default === undefined ? first : lines.findIndex((l) => 'value' in l && l.value === config.default);
    const [active, setActive] = useState(start < 0 ? first : start);
    const [status, setStatus] = useState<'idle' | 'done'>('idle');
    const [typed, setTyped] = useState('');
    const clear = useRef<NodeJS.Timeout | undefined>(undefined);
    useEffect(() => () => clearTimeout(clear.current), []);
    useKeypress((key: KeypressEvent, rl) => {
      clearTimeout(clear.current);
      const entry = lines[active] as { value: T; number: number };
      if (isEnterKey(key)) {
        setStatus('done');
        done(entry.value);
      } else if (isUpKey(key) || isDownKey(key)) {
        const step = isUpKey(key) ? -1 : 1;
        let next = active;
        do next += step;
        while (next > first && next < last && !pickable(next));
        if (next >= first && next <= last) setActive(next);
        setTyped('');
        rl.clearLine(0);
      } else if (/^\d$/.test(key.name ?? '') || /^\d+$/.test(rl.line)) {
        // Digits pick the entry with that number; they are forgotten after a pause, as in select.
        const wanted = rl.line.replace(/\D/g, '');
        const found = lines.findIndex((l) => 'number' in l && String(l.number) === wanted);
        if (found >= 0) setActive(found);
        setTyped(wanted);
        clear.current = setTimeout(() => {
          rl.clearLine(0);
          setTyped('');
        }, 1000);
      } else if (isBackspaceKey(key) || key.name === 'escape') {
        rl.clearLine(0);
        setTyped('');
      }
    });
    const width = Math.max(...lines.map((l) => ('number' in l ? String(l.number).length : 0)));
    const chosen = lines[active] as { number: number; label: string };
    if (status === 'done') return `${config.status}\n✔ ${config.message} ${chosen.number}. ${chosen.label}`;
    const page = usePagination({
      items: lines,
      active,
      pageSize: Math.max(5, config.rows - CHROME_ROWS),
      loop: false,
      renderItem: ({ item, isActive }) => {
        if ('heading' in item) return `  ── ${item.heading}`;
        const text = `${String(item.number).padStart(width)}. ${item.label}`;
        return isActive ? config.style.active(`❯ ${text}`) : `  ${text}`;
      },
    });
    const help = `${typed ? `number ${typed} · ` : ''}type a number or ↑↓, then ⏎ · Ctrl-C quits`;
    return [config.status, `? ${config.message}`, page, ' ', config.style.dim(help)].join('\n');
  }) as Prompt<MenuPromptConfig<T>, T>;
}

/** "Press a key": holds an action's result on screen until the person has read it. */
export function pausePrompt(core: Core): Prompt<{ message: string }, void> {
  const { createPrompt, useKeypress, useState } = core;
  return createPrompt<void, { message: string }>((config, done) => {
    const [status, setStatus] = useState<'idle' | 'done'>('idle');
    useKeypress(() => {
      setStatus('done');
      done();
    });
    return status === 'done' ? '' : config.message;
  }) as Prompt<{ message: string }, void>;
}
