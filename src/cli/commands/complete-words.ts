import type { Command, Option } from 'commander';
import type { ConfigFlags } from '../../config/resolve.js';

/** What the word being typed can be: fixed words, or names read from the installation. */
export type Completion = { kind: 'words'; words: string[] } | { kind: 'functions' | 'requests' | 'contexts' } | { kind: 'files' };

/** Arguments whose values are names faasctl knows, by the command they belong to and the argument's name. */
const DYNAMIC: Array<{ path: RegExp; arg: RegExp; kind: 'functions' | 'requests' | 'contexts' }> = [
  { path: /^(fn (?!new$)\S+|logs|export|stats)$/, arg: /^(name|fn|function|functions|names)$/, kind: 'functions' },
  { path: /^request \S+$/, arg: /^(id|ids)$/, kind: 'requests' },
  { path: /^context (use|rm)$/, arg: /^name$/, kind: 'contexts' },
];

const hidden = (c: Command) => (c as unknown as { _hidden?: boolean })._hidden;
const takesValue = (o: Option) => o.required || o.optional;

/**
 * From the words typed after `faasctl` (the last one being completed), what may come next,
 * and the connection flags among them (`--context X` changes whose names are read).
 */
export function completionFor(program: Command, words: string[]): { completion: Completion; flags: ConfigFlags } {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const flags: ConfigFlags = {};
  let cmd = program;
  let positional = 0;
  let pendingValue: Option | undefined;
  const options = () => [...cmd.options, ...(cmd === program ? [] : program.options)];
  for (const word of before) {
    if (pendingValue) {
      const key = pendingValue.attributeName() as keyof ConfigFlags;
      if (key === 'context' || key === 'host' || key === 'db') flags[key] = word;
      pendingValue = undefined;
    } else if (word.startsWith('-')) {
      const option = options().find((o) => o.long === word || o.short === word);
      if (option && takesValue(option) && !word.includes('=')) pendingValue = option;
    } else {
      const sub = positional === 0 ? cmd.commands.find((c) => !hidden(c) && (c.name() === word || c.aliases().includes(word))) : undefined;
      if (sub) cmd = sub;
      else positional++;
    }
  }
  if (pendingValue) return { completion: pendingValue.long === '--context' ? { kind: 'contexts' } : { kind: 'files' }, flags };
  if (current.startsWith('-')) {
    const names = options()
      .flatMap((o) => [o.long, o.short])
      .filter((f): f is string => Boolean(f));
    return { completion: { kind: 'words', words: [...names, '--help'] }, flags };
  }
  const subs = cmd.commands.filter((c) => !hidden(c) && c.name() !== 'help');
  if (subs.length) return { completion: { kind: 'words', words: subs.flatMap((c) => [c.name(), ...c.aliases()]) }, flags };
  if (cmd.name() === 'completion') return { completion: { kind: 'words', words: ['bash', 'zsh', 'fish'] }, flags };
  const path = commandPath(cmd);
  const args = cmd.registeredArguments;
  const arg = args[Math.min(positional, args.length - 1)];
  // A variadic argument (FN…) takes names at any position; others only at their own.
  const fits = arg && (positional < args.length || arg.variadic);
  const dynamic = fits ? DYNAMIC.find((d) => d.path.test(path) && d.arg.test(arg.name())) : undefined;
  return { completion: dynamic ? { kind: dynamic.kind } : { kind: 'files' }, flags };
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
