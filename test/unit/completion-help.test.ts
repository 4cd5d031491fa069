import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completionFor } from '../../src/cli/commands/complete-words.js';
import { completionScript } from '../../src/cli/commands/completion.js';
import { main } from '../../src/cli/main.js';
import { buildProgram } from '../../src/cli/program.js';
import { createTestContext } from '../helpers/test-context.js';
import { tempDir } from '../helpers/temp.js';

const argv = (...args: string[]) => ['node', 'faasctl', ...args];

function leaves(cmd: Command, path: string[] = []): string[][] {
  if (!cmd.commands.length) return [path];
  return cmd.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

/** What bash offers after the words typed so far (the last one is being completed). */
function complete(script: string, line: string): string[] {
  const program = `source /dev/stdin; read -ra COMP_WORDS <<< "$1"; [[ "$1" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _faasctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const file = join(tempDir('faasctl-compl-'), 'faasctl.bash');
  writeFileSync(file, script);
  return execFileSync('bash', ['-c', program.replace('/dev/stdin', file), '_', line], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

describe('help and completion', () => {
  const program = buildProgram(createTestContext().ctx);

  it('every command has --help with an example', async () => {
    const missing: string[] = [];
    for (const path of leaves(program)) {
      const t = createTestContext();
      expect(await main(argv(...path, '--help'), t.ctx), path.join(' ')).toBe(0);
      if (!/Examples?:\n {2}.*faasctl /.test(t.stdout())) missing.push(path.join(' '));
    }
    expect(missing).toEqual([]);
  });

  it("every subcommand's help lists the global flags, in text and in --help --json", async () => {
    const missing: string[] = [];
    for (const path of leaves(program)) {
      const t = createTestContext();
      expect(await main(argv(...path, '--help'), t.ctx)).toBe(0);
      const text = t.stdout();
      const globals = text.slice(text.indexOf('Global Options:'));
      if (!text.includes('Global Options:') || !/--json/.test(globals) || !/--context <name>/.test(globals) || !/-q, --quiet/.test(globals)) missing.push(path.join(' '));
      const j = createTestContext();
      expect(await main(argv(...path, '--help', '--json'), j.ctx)).toBe(0);
      const flags = (JSON.parse(j.stdout()) as { globalOptions: Array<{ flags: string }> }).globalOptions.map((o) => o.flags);
      if (!flags.includes('--json') || !flags.includes('-H, --host <url>')) missing.push(`${path.join(' ')} --json`);
    }
    expect(missing).toEqual([]);
  });

  it('bash completes commands, subcommands, aliases and flags, and files for arguments', () => {
    const script = completionScript(program, 'bash');
    expect(complete(script, 'faasctl fn de')).toEqual(['deploy', 'delete']);
    expect(complete(script, 'faasctl --json req')).toEqual(['request']);
    expect(complete(script, 'faasctl request l')).toEqual(['list', 'ls']);
    expect(complete(script, 'faasctl fn invoke sum --data-f')).toEqual(['--data-file']);
    expect(complete(script, 'faasctl fn deploy --na')).toEqual(['--name']);
    expect(complete(script, 'faasctl completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(complete(script, 'faasctl menu --no-c')).toEqual(['--no-color']);
    expect(complete(script, 'faasctl fn deploy package.js')).toEqual(['package.json']);
  });

  it('zsh gets the same through bashcompinit; fish asks faasctl __complete; another shell is a usage error', async () => {
    expect(completionScript(program, 'zsh')).toMatch(/^#compdef faasctl\nautoload -U \+X bashcompinit && bashcompinit\n/);
    const fish = createTestContext();
    expect(await main(argv('completion', 'fish'), fish.ctx)).toBe(0);
    expect(fish.stdout()).toContain("complete -c faasctl -f -a '(__faasctl_complete)'");
    expect(fish.stdout()).toContain('faasctl __complete -- $words[2..-1]');
    const t = createTestContext();
    expect(await main(argv('completion', 'tcsh'), t.ctx)).toBe(2);
    expect(t.stderr()).toContain('hint: faasctl completion bash, zsh or fish');
  });

  it('knows which words are function names, request ids or contexts', () => {
    const kind = (...words: string[]) => completionFor(program, words).completion;
    expect(kind('fn', 'invoke', 's')).toEqual({ kind: 'functions' });
    expect(kind('--json', 'fn', 'show', '')).toEqual({ kind: 'functions' });
    expect(kind('fn', 'invoke', '--data', '{}', '')).toEqual({ kind: 'functions' });
    expect(kind('fn', 'invoke', 'sum', '')).toEqual({ kind: 'files' }); // one name only
    expect(kind('export', 'a', 'b', '')).toEqual({ kind: 'functions' }); // FN…
    expect(kind('logs', '')).toEqual({ kind: 'functions' });
    expect(kind('fn', 'new', '')).toEqual({ kind: 'files' }); // a new name
    expect(kind('fn', 'deploy', '')).toEqual({ kind: 'files' });
    expect(kind('request', 'wait', '')).toEqual({ kind: 'requests' });
    expect(kind('context', 'use', '')).toEqual({ kind: 'contexts' });
    expect(kind('context', 'add', '')).toEqual({ kind: 'files' });
    expect(kind('--context', '')).toEqual({ kind: 'contexts' });
    expect(kind('fn', 'de')).toMatchObject({ kind: 'words', words: expect.arrayContaining(['deploy', 'delete']) });
    expect(kind('completion', '')).toEqual({ kind: 'words', words: ['bash', 'zsh', 'fish'] });
    expect(kind('fn', 'invoke', '--da')).toMatchObject({ kind: 'words', words: expect.arrayContaining(['--data', '--json']) });
    // The names are read from the context named among the words.
    expect(completionFor(program, ['--context', 'prod', 'fn', 'invoke', '']).flags).toEqual({ context: 'prod' });
    expect(kind('')).not.toMatchObject({ words: expect.arrayContaining(['__complete']) }); // hidden
  });
});
