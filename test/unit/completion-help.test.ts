import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
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
    expect(complete(script, 'faasctl completion ')).toEqual(expect.arrayContaining(['bash', 'zsh']));
    expect(complete(script, 'faasctl menu --no-c')).toEqual(['--no-color']);
    expect(complete(script, 'faasctl fn deploy package.js')).toEqual(['package.json']);
  });

  it('zsh gets the same through bashcompinit; another shell is a usage error', async () => {
    expect(completionScript(program, 'zsh')).toMatch(/^#compdef faasctl\nautoload -U \+X bashcompinit && bashcompinit\n/);
    const t = createTestContext();
    expect(await main(argv('completion', 'fish'), t.ctx)).toBe(2);
    expect(t.stderr()).toContain('hint: faasctl completion bash, or faasctl completion zsh');
  });
});
